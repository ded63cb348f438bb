// Who is still connected to the source (the drain check) and ending stale connections at cutover.
// Our own connections (CLIENT SETNAME migration-buddy:...), replicas, the master link of a source
// that is itself a replica, and MONITOR sessions are never listed nor killed.

import type { Redis } from 'ioredis';
import { CLIENT_NAME_PREFIX } from '../../redis/connect.js';

export interface SourceClient {
  /** CLIENT ID, used to kill exactly this connection. */
  id: string;
  addr: string;
  /** CLIENT SETNAME name ('' when unnamed). */
  name: string;
  user: string | null;
  db: number;
  ageSeconds: number;
  idleSeconds: number;
  /** Last command run (`cmd=`), e.g. `get` or `client|list`. */
  lastCommand: string;
  flags: string;
}

/** Parses every line of CLIENT LIST into `field -> value` (values may be empty). */
export function parseClientList(text: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const fields: Record<string, string> = {};
    // Names may not contain spaces (CLIENT SETNAME refuses them), so fields split on spaces.
    for (const part of line.trim().split(' ')) {
      const eq = part.indexOf('=');
      if (eq > 0) fields[part.slice(0, eq)] = part.slice(eq + 1);
    }
    out.push(fields);
  }
  return out;
}

export function toSourceClient(fields: Record<string, string>): SourceClient {
  return {
    id: fields.id ?? '',
    addr: fields.addr ?? '',
    name: fields.name ?? '',
    user: fields.user ?? null,
    db: Number(fields.db ?? 0),
    ageSeconds: Number(fields.age ?? 0),
    idleSeconds: Number(fields.idle ?? 0),
    lastCommand: fields.cmd ?? '',
    flags: fields.flags ?? '',
  };
}

export function isOurs(client: Pick<SourceClient, 'name'>): boolean {
  return client.name.startsWith(`${CLIENT_NAME_PREFIX}:`);
}

/** Replicas (S), our master link (M) and monitors (O) are infrastructure, not applications. */
export function isInfrastructure(client: Pick<SourceClient, 'flags' | 'lastCommand'>): boolean {
  return /[SMO]/.test(client.flags) || /^(sync|psync)$/i.test(client.lastCommand);
}

/** Application connections still on the source: CLIENT LIST minus ours, replicas and monitors. */
export async function listSourceClients(source: Redis): Promise<SourceClient[]> {
  const text = (await source.call('CLIENT', 'LIST')) as string;
  return parseClientList(text)
    .map(toSourceClient)
    .filter((c) => c.id !== '' && !isOurs(c) && !isInfrastructure(c));
}

export interface KillResult {
  killed: number;
  /** Asked for but ours or infrastructure: never killed. */
  refused: SourceClient[];
}

/**
 * Ends these connections (CLIENT KILL ID). Connections that are ours, replicas or monitors are
 * refused even if passed in. A client that already went away simply does not count as killed.
 */
export async function killClients(source: Redis, clients: readonly SourceClient[]): Promise<KillResult> {
  const refused = clients.filter((c) => isOurs(c) || isInfrastructure(c));
  const targets = clients.filter((c) => !refused.includes(c) && /^\d+$/.test(c.id));
  if (targets.length === 0) return { killed: 0, refused };
  const pipeline = source.pipeline();
  // One CLIENT KILL per id: filters in one call are ANDed, so several IDs would match nothing.
  for (const c of targets) pipeline.call('CLIENT', 'KILL', 'ID', c.id, 'SKIPME', 'yes');
  const replies = (await pipeline.exec()) ?? [];
  let killed = 0;
  for (const [err, n] of replies) if (!err) killed += Number(n);
  return { killed, refused };
}
