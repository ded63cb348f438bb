// The shards of a source, one per primary (CLUSTER SLOTS, read through the node the endpoint
// names), each with the node its keys are read from: the primary, or one of its replicas chosen
// explicitly (to spare the primary). A replica is taken only when it is in sync: its link to the
// primary up, no sync in progress, and the primary's last acknowledgement from it recent; else
// the listing refuses it, naming the replica and why.
import {
  nodeAddress,
  parseClusterShards,
  parseClusterSlots,
  type TopologyNode,
  type TopologyShard,
} from '../../probe/cluster-topology.js';
import { infoField, parseInfo } from '../../probe/info.js';
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { nodeEndpoint } from '../../redis/node-endpoint.js';
import { UserError } from '../../util/errors.js';
import { respInfo } from '../identity/guard.js';
import { RespConnection } from '../resp/connection.js';
import { RespError } from '../resp/reply.js';
import { plain } from './plain-reply.js';
import type { SourceShard } from './shards.js';
import { isClusterNode } from './standalone-only.js';

/** A replica whose primary heard from it longer ago than this (INFO replication lag) lags. */
export const MAX_REPLICA_LAG_SECONDS = 5;

export interface ListShardsOptions {
  /** true: one in-sync replica of each primary; 'host:port': that replica (of whichever primary). */
  readFromReplica?: boolean | string;
}

export async function listSourceShards(
  source: Endpoint,
  opts: ListShardsOptions = {},
): Promise<SourceShard[]> {
  const conn = await RespConnection.open(source, { role: 'topology' });
  let topology: TopologyShard[];
  try {
    if (!isClusterNode(await respInfo(conn)('server'))) {
      if (opts.readFromReplica) {
        throw new UserError(
          `${describeEndpoint(source)} is a standalone server: reading from a replica is for a cluster source ` +
            '(point the copy at the replica itself to read from it)',
        );
      }
      const address = nodeAddress(source);
      return [{ id: 'standalone', primary: address, readFrom: address, slots: [] }];
    }
    // CLUSTER SHARDS (Redis 7+) lists every replica; CLUSTER SLOTS leaves out those it thinks not
    // ready yet (no replication offset gossiped), so it is only the fallback.
    const [shards] = await conn.exec([['CLUSTER', 'SHARDS']]);
    if (!(shards instanceof RespError)) {
      topology = parseClusterShards(plain(shards ?? null), source.host, Boolean(source.tls));
      return await shardsOf(source, topology, opts);
    }
    const [reply] = await conn.exec([['CLUSTER', 'SLOTS']]);
    if (reply instanceof RespError) {
      throw new UserError(
        `cannot read the slot map of cluster ${describeEndpoint(source)} (CLUSTER SLOTS: ${reply.message}): allow the user CLUSTER SLOTS`,
      );
    }
    topology = parseClusterSlots(plain(reply ?? null), source.host);
  } finally {
    conn.destroy();
  }
  return shardsOf(source, topology, opts);
}

async function shardsOf(
  source: Endpoint,
  topology: TopologyShard[],
  opts: ListShardsOptions,
): Promise<SourceShard[]> {
  const named = typeof opts.readFromReplica === 'string' ? opts.readFromReplica : null;
  if (named && !topology.some((s) => s.replicas.some((r) => nodeAddress(r) === named))) {
    throw new UserError(
      `${named} is not a replica of any primary of cluster ${describeEndpoint(source)} ` +
        `(replicas: ${topology.flatMap((s) => s.replicas.map(nodeAddress)).join(', ') || 'none'})`,
    );
  }
  const shards: SourceShard[] = [];
  for (const s of topology) {
    const primary = nodeAddress(s.primary);
    let readFrom = primary;
    if (opts.readFromReplica === true) {
      readFrom = await pickReplica(source, s.primary, s.replicas);
    } else if (named && s.replicas.some((r) => nodeAddress(r) === named)) {
      const replica = s.replicas.find((r) => nodeAddress(r) === named)!;
      const why = await replicaNotInSync(source, s.primary, replica);
      if (why) throw new UserError(`replica ${named} cannot be read from: ${why}`);
      readFrom = named;
    }
    shards.push({ id: s.primary.id || primary, primary, readFrom, slots: s.slots });
  }
  return shards;
}

async function pickReplica(
  source: Endpoint,
  primary: TopologyNode,
  replicas: TopologyNode[],
): Promise<string> {
  const reasons: string[] = [];
  for (const r of replicas) {
    const why = await replicaNotInSync(source, primary, r);
    if (!why) return nodeAddress(r);
    reasons.push(`${nodeAddress(r)}: ${why}`);
  }
  throw new UserError(
    `primary ${nodeAddress(primary)} has no replica in sync to read from (${reasons.join('; ') || 'it has no replica'}): ` +
      'read from the primaries instead, or wait until a replica has caught up',
  );
}

/** Why this replica cannot stand in for its primary now, or null when it can. */
export async function replicaNotInSync(
  source: Endpoint,
  primary: Pick<TopologyNode, 'host' | 'port'>,
  replica: Pick<TopologyNode, 'host' | 'port'>,
): Promise<string | null> {
  const open = (n: Pick<TopologyNode, 'host' | 'port'>) =>
    RespConnection.open(nodeEndpoint(source, n.host, n.port), { role: 'replica-check', db: 0 });
  let r: RespConnection | undefined;
  let p: RespConnection | undefined;
  try {
    r = await open(replica);
    p = await open(primary);
    const mine = parseInfo(await respInfo(r)('replication'));
    const role = infoField(mine, 'role');
    if (role !== 'slave' && role !== 'replica')
      return `it is a ${role ?? 'unknown-role'} node, not a replica`;
    const master = `${infoField(mine, 'master_host')}:${infoField(mine, 'master_port')}`;
    const primaryAddress = nodeAddress(primary);
    if (master !== primaryAddress && infoField(mine, 'master_port') !== String(primary.port)) {
      return `it replicates ${master}, not ${primaryAddress}`;
    }
    if (infoField(mine, 'master_link_status') !== 'up') return 'its link to the primary is down';
    if (infoField(mine, 'master_sync_in_progress') === '1') return 'it is still syncing from the primary';
    const theirs = parseInfo(await respInfo(p)('replication'));
    for (let i = 0; ; i++) {
      const line = infoField(theirs, `slave${i}`);
      if (line === undefined) return `its primary ${primaryAddress} does not list it as a connected replica`;
      const f = Object.fromEntries(line.split(',').map((kv) => kv.split('=') as [string, string]));
      if (Number(f['port']) !== replica.port) continue;
      if (f['state'] !== 'online') return `its primary reports it ${f['state']}`;
      const lag = Number(f['lag'] ?? 0);
      if (lag > MAX_REPLICA_LAG_SECONDS) {
        return `it lags: its primary last heard from it ${lag} s ago (at most ${MAX_REPLICA_LAG_SECONDS} s)`;
      }
      const behind = Number(infoField(theirs, 'master_repl_offset') ?? 0) - Number(f['offset'] ?? 0);
      return behind > 16 * 1024 * 1024 ? `it lags ${behind} bytes of replication stream behind` : null;
    }
  } catch (err) {
    return `it cannot be reached (${(err as Error).message})`;
  } finally {
    r?.destroy();
    p?.destroy();
  }
}
