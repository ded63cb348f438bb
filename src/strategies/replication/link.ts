// Whether the target has made contact with the source, and if not, why not in the words of the
// two servers: the target's INFO replication, and the source's ACL LOG (a refused AUTH or a user
// that may not run PSYNC shows up there, while the target only says "down").
import type { Redis } from 'ioredis';
import { describeEndpoint } from '../../redis/endpoint.js';
import { errorMessage } from '../../util/errors.js';
import { describeLink, type SourceState, type TargetState } from './info.js';
import { findOurReplica, type LinkSession } from './session.js';

/**
 * Contact: the link is up, snapshot bytes arrive or load, or the source lists the target as its
 * replica. A sync "in progress" alone proves nothing: a replica whose PSYNC is refused retries
 * SYNC in a tight loop and shows master_sync_in_progress:1 for a moment each time.
 */
export function hasContact(target: TargetState, source: SourceState | null): boolean {
  if (target.role !== 'replica') return false;
  if (target.linkUp || target.loading) return true;
  if (target.syncInProgress && (target.syncReadBytes ?? 0) > 0) return true;
  return source !== null && findOurReplica(source, target) !== undefined;
}

/** ACL LOG entries (Redis 6+) for this user from the last `windowSeconds`, summarized. */
async function aclComplaints(source: Redis, user: string, windowSeconds: number): Promise<string[]> {
  let reply: unknown;
  try {
    reply = await source.call('ACL', 'LOG', '50');
  } catch {
    return [];
  }
  if (!Array.isArray(reply)) return [];
  const out = new Map<string, number>();
  for (const entry of reply) {
    if (!Array.isArray(entry)) continue;
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < entry.length; i += 2) f[String(entry[i])] = String(entry[i + 1]);
    if (f.username !== user) continue;
    // age-seconds is the age of the last occurrence; count covers earlier ones too.
    if (Number(f['age-seconds'] ?? Infinity) > windowSeconds) continue;
    const what =
      f.reason === 'auth'
        ? `AUTH as "${user}" refused (wrong masteruser or masterauth)`
        : `user "${user}" may not run ${f.object} (${f.reason}); a replica needs +psync +replconf +ping`;
    out.set(what, (out.get(what) ?? 0) + Number(f.count ?? 1));
  }
  return [...out].map(([what, n]) => `${what}, ${n} time${n === 1 ? '' : 's'}`);
}

async function tlsHint(session: LinkSession): Promise<string | null> {
  if (!session.endpoints.source.tls) return null;
  try {
    const ca = (await session.target.call('CONFIG', 'GET', 'tls-ca-cert-*')) as string[];
    const set = ca.filter((_, i) => i % 2 === 1).some((v) => v !== '');
    return set
      ? null
      : "the source speaks TLS but the target has no tls-ca-cert-file or tls-ca-cert-dir to check the source's certificate";
  } catch {
    return null;
  }
}

/** One paragraph for people: where the target tried to connect, what it says, and hints. */
export async function diagnoseNoContact(
  session: LinkSession,
  address: { host: string; port: number },
  target: TargetState,
  waitedMs: number,
): Promise<string> {
  const where = describeEndpoint(session.endpoints.source);
  const parts = [
    `the target cannot replicate from the source ${where} at ${address.host}:${address.port}: no contact ` +
      `within ${Math.round(waitedMs / 1000)} s. The target reports ${describeLink(target)}.`,
  ];
  if (session.source) {
    const user = session.endpoints.source.username ?? 'default';
    const complaints = await aclComplaints(session.source, user, Math.ceil(waitedMs / 1000) + 5);
    if (complaints.length > 0) parts.push(`The source's ACL LOG says: ${complaints.join('; ')}.`);
    else {
      parts.push(
        'This worker reaches the source, so check the path from the target to it (address, firewall, ' +
          'security groups) and that nothing else answers on that port.',
      );
    }
  } else {
    parts.push('This worker cannot reach the source either: is it running, and is the address right?');
  }
  const hint = await tlsHint(session).catch((err) => `(TLS check failed: ${errorMessage(err)})`);
  if (hint) parts.push(`Also: ${hint}.`);
  return parts.join(' ');
}
