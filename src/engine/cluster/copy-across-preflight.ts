// Read-only checks before a copy across topologies writes anything. The cross-topology copy moves
// DUMP payloads only, whole, so what it cannot do is refused here, up front, naming the node and
// what to do instead: a target node that cannot RESTORE a source node's payloads (by-type copy is
// not built for clusters), a key above the big-key threshold (no chunking across topologies), a
// source whose primaries hold different function libraries, libraries with a target lacking
// FUNCTION, and a non-empty target primary under the refuse policy.
import { parseFlavor, parseInfo, parseKeyspace, parseServer } from '../../probe/info.js';
import { printableKey } from '../../probe/printable-key.js';
import { rdbAccepted, rdbVersionForServer } from '../../probe/rdb-version.js';
import { ExitCode, UserError } from '../../util/errors.js';
import { listLibraries } from '../copy/functions.js';
import type { NonEmptyTargetPolicy } from '../copy/types.js';
import { respInfo } from '../identity/guard.js';
import { RespConnection } from '../resp/connection.js';
import { type RespArg, RespError, replyInt, replyText } from '../resp/reply.js';
import type { KeyHolders } from './nodes.js';

export interface AcrossNode {
  address: string;
  conn: RespConnection;
}

/** One connection per node that holds the endpoint's keys (all closed again if one fails). */
export async function openAcrossNodes(holders: KeyHolders, db: number, role: string): Promise<AcrossNode[]> {
  const out: AcrossNode[] = [];
  try {
    for (const n of holders.nodes) {
      out.push({ address: n.address, conn: await RespConnection.open(n.endpoint, { role, db }) });
    }
  } catch (err) {
    for (const n of out) n.conn.destroy();
    throw err;
  }
  return out;
}

export interface NodeTargetState {
  address: string;
  /** Keys in the database copied into. */
  keys: number;
  /** null: no FUNCTION (Redis < 7) or refused. */
  libraries: string[] | null;
}

export interface AcrossPreflight {
  /** Keys the source holds (that match), counted by the size pass: the progress total. */
  sourceKeys: number;
  /** The source's libraries (the same on every source primary) and a node to FUNCTION DUMP them from. */
  libraries: { names: string[]; from: AcrossNode } | null;
  targets: NodeTargetState[];
}

const problem = (message: string) => new UserError(message, ExitCode.problem);

async function rdbOf(node: AcrossNode): Promise<{ flavor: string; rdbVersion: number; label: string }> {
  const info = parseInfo(await respInfo(node.conn)('server'));
  const server = parseServer(info);
  const { flavor, flavorVersion } = parseFlavor(info);
  const rdbVersion = rdbVersionForServer(server.version, flavor, flavorVersion);
  return { flavor, rdbVersion, label: `${flavor} ${flavorVersion ?? server.version}, RDB ${rdbVersion}` };
}

/** Every target node must RESTORE every source node's payloads. */
export async function checkPayloadsCross(sources: AcrossNode[], targets: AcrossNode[]): Promise<void> {
  const [src, dst] = await Promise.all([Promise.all(sources.map(rdbOf)), Promise.all(targets.map(rdbOf))]);
  for (const [i, s] of src.entries()) {
    for (const [j, t] of dst.entries()) {
      if (rdbAccepted(s.rdbVersion, t)) continue;
      throw problem(
        `target node ${targets[j]!.address} (${t.label}) cannot RESTORE the DUMP payloads of source node ` +
          `${sources[i]!.address} (${s.label}), and copying by type is not built for Redis Cluster yet, so ` +
          'nothing was written. Use a target of the same or a newer version, or copy by type through a ' +
          'standalone server (`copy --by-type` to it, then from it)',
      );
    }
  }
}

/**
 * One pass of SCAN + MEMORY USAGE over every source node: refuses the first key above the
 * threshold (nothing is written yet) and counts the keys.
 */
export async function checkKeySizes(
  sources: AcrossNode[],
  options: { thresholdBytes: number; batchSize: number; match?: string },
): Promise<number> {
  let keys = 0;
  for (const node of sources) {
    let cursor = '0';
    do {
      const scan: RespArg[] = ['SCAN', cursor, 'COUNT', options.batchSize];
      if (options.match !== undefined) scan.push('MATCH', options.match);
      const [page] = await node.conn.exec([scan]);
      if (!Array.isArray(page)) throw problem(`SCAN on ${node.address} failed: ${String(page)}`);
      cursor = replyText(page[0] ?? null) ?? '0';
      const batch = (page[1] as Buffer[]) ?? [];
      if (batch.length === 0) continue;
      const sizes = await node.conn.exec(batch.map((k) => ['MEMORY', 'USAGE', k] as RespArg[]));
      for (const [i, reply] of sizes.entries()) {
        if (reply instanceof RespError) {
          throw problem(
            `MEMORY USAGE on source node ${node.address} was refused (${reply.message}): the copy across ` +
              'topologies checks every key size before writing; allow the user MEMORY USAGE',
          );
        }
        const bytes = replyInt(reply ?? null);
        if (typeof bytes !== 'number') continue; // gone since SCAN
        keys++;
        if (bytes > options.thresholdBytes) {
          throw problem(
            `key ${printableKey(batch[i]!)} on source node ${node.address} uses ${bytes} bytes, above the ` +
              `big-key threshold (${options.thresholdBytes} bytes), and the copy across topologies moves ` +
              'each key as one DUMP payload (no chunking yet), so nothing was written. Raise ' +
              '--big-key-threshold if the servers can take a payload that size, or copy that key apart',
          );
        }
      }
    } while (cursor !== '0');
  }
  return keys;
}

/** The source primaries' libraries: they must agree (each primary has its own). */
export async function sourceLibraries(sources: AcrossNode[]): Promise<AcrossPreflight['libraries']> {
  const lists = await Promise.all(sources.map((n) => listLibraries(n.conn)));
  const key = (l: string[] | null) => [...(l ?? [])].sort().join(',');
  const first = key(lists[0] ?? null);
  const odd = lists.findIndex((l) => key(l) !== first);
  if (odd !== -1) {
    throw problem(
      `the source's primaries hold different function libraries (${sources[0]!.address}: ${first || 'none'}; ` +
        `${sources[odd]!.address}: ${key(lists[odd] ?? null) || 'none'}), so there is no one set to load on the ` +
        'target and nothing was written. Load the same libraries on every source primary (FUNCTION LOAD), then copy again',
    );
  }
  const names = lists[0] ?? [];
  return names.length > 0 ? { names, from: sources[0]! } : null;
}

/** Keys and libraries on each target node; refuses a non-empty one under 'refuse'. */
export async function targetStates(
  targets: AcrossNode[],
  db: number,
  policy: NonEmptyTargetPolicy,
  libraries: AcrossPreflight['libraries'],
): Promise<NodeTargetState[]> {
  const states = await Promise.all(
    targets.map(async (node): Promise<NodeTargetState> => {
      const keyspace = parseKeyspace(parseInfo(await respInfo(node.conn)('keyspace')));
      return {
        address: node.address,
        keys: keyspace.find((k) => k.db === db)?.keys ?? 0,
        libraries: await listLibraries(node.conn),
      };
    }),
  );
  if (libraries) {
    const without = states.filter((s) => s.libraries === null).map((s) => s.address);
    if (without.length > 0) {
      throw problem(
        `the source has function libraries (${libraries.names.join(', ')}) and target node(s) ${without.join(', ')} ` +
          'have no FUNCTION (Redis < 7) or refuse it, so the copy would be incomplete and nothing was written. ' +
          'Use a Redis 7+ target and allow the user FUNCTION',
      );
    }
  }
  const nonEmpty = states.filter((s) => s.keys > 0 || (s.libraries?.length ?? 0) > 0);
  if (policy === 'refuse' && nonEmpty.length > 0) {
    const parts = nonEmpty.map((s) => {
      const what = s.keys > 0 ? [`db${db} has ${s.keys} key${s.keys === 1 ? '' : 's'}`] : [];
      if (s.libraries?.length) what.push(`function libraries: ${[...s.libraries].sort().join(', ')}`);
      return `${s.address}: ${what.join(', ')}`;
    });
    throw problem(
      `the target is not empty (${parts.join('; ')}), so nothing was written. Choose replace (--replace: ` +
        "same-name keys and libraries are overwritten, the target's other data stays) or flush " +
        `(--flush-target: db${db} of every target node is emptied first and the target's libraries become exactly the source's)`,
    );
  }
  return states;
}
