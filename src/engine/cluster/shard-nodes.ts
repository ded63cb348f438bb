// Connections of one shard's run: the source node a shard reads (the primary, or a replica in
// READONLY mode, which serves reads of its primary's slots), where a cluster target's primaries
// are, and who they are (INFO run_id, role, keys) for the identity checks.
import { parseInfo, parseKeyspace } from '../../probe/info.js';
import type { Endpoint } from '../../redis/endpoint.js';
import { nodeEndpoint } from '../../redis/node-endpoint.js';
import { UserError } from '../../util/errors.js';
import { parseIdentity, respInfo, type ServerIdentity } from '../identity/index.js';
import { IDENTITY_SECTIONS } from '../identity/server-identity.js';
import { RespConnection } from '../resp/connection.js';
import { RespError } from '../resp/reply.js';
import { replicaNotInSync } from './shard-list.js';
import type { SourceShard } from './shards.js';

export function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return {
    host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'),
    port: Number(address.slice(colon + 1)),
  };
}

/** The endpoint of a node `host:port` of the side `endpoint` names (same credentials and TLS). */
export function nodeAt(endpoint: Endpoint, address: string): Endpoint {
  const { host, port } = splitAddress(address);
  return { ...nodeEndpoint(endpoint, host, port), db: 0 };
}

/** A connection to the node a shard reads, on `db`; READONLY when it is a replica. */
export async function openShardSource(
  source: Endpoint,
  shard: SourceShard,
  cluster: boolean,
  db: number,
  role: string,
): Promise<RespConnection> {
  const endpoint = cluster ? nodeAt(source, shard.readFrom) : source;
  const conn = await RespConnection.open(endpoint, { role, db });
  if (cluster && shard.readFrom !== shard.primary) {
    const [ok] = await conn.exec([['READONLY']]);
    if (ok instanceof RespError) {
      conn.destroy();
      throw new Error(`replica ${shard.readFrom} refused READONLY: ${ok.message}`);
    }
  }
  return conn;
}

/** Who a node is (a cluster node too: readIdentity refuses those for the one-server engines). */
export async function nodeIdentity(conn: RespConnection, dbs: readonly number[]): Promise<ServerIdentity> {
  const info = respInfo(conn);
  const texts = await Promise.all(IDENTITY_SECTIONS.map((s) => info(s)));
  return parseIdentity(texts.join('\n'), dbs);
}

/** Keys a node holds in `db` (INFO keyspace). */
export async function nodeKeys(conn: RespConnection, db: number): Promise<number> {
  return parseKeyspace(parseInfo(await respInfo(conn)('keyspace'))).find((k) => k.db === db)?.keys ?? 0;
}

/**
 * Several target primaries seen as one server for the copy's identity check: a restart of any
 * changes the joined run id (the copy starts over: that node may have lost what it took), the
 * keys are their sum.
 */
export async function joinedIdentity(conns: RespConnection[], db: number): Promise<ServerIdentity> {
  const all = await Promise.all(conns.map((c) => nodeIdentity(c, [db])));
  return {
    runId: all.map((i) => i.runId).join(','),
    role: all.every((i) => i.role === 'master') ? 'master' : 'replica',
    master: all.find((i) => i.master !== null)?.master ?? null,
    keys: all.reduce((n, i) => n + i.keys, 0),
    capturedAt: new Date().toISOString(),
  };
}

/**
 * A shard listed to read from a replica: refused (UserError) unless that replica is in sync now,
 * since the listing may be older than the run (a job queued for a while).
 */
export async function refuseStaleReplica(source: Endpoint, shard: SourceShard): Promise<void> {
  if (shard.readFrom === shard.primary) return;
  const why = await replicaNotInSync(source, splitAddress(shard.primary), splitAddress(shard.readFrom));
  if (why) {
    throw new UserError(
      `shard ${shard.id} was listed to read from replica ${shard.readFrom}, which cannot be read from now: ${why}. ` +
        'Nothing was copied: run it again once the replica has caught up, or list the shards again',
    );
  }
}
