// The independent comparison (./compare.ts) for a Redis Cluster on either side: every primary is
// read on its own with a plain ioredis client (SCAN is per node), the snapshots are merged, and
// the two sides are compared key by key. Shares nothing with the engine's copy or verify.
import { type CompareOptions, compareSnapshots, type KeySnapshot, snapshotDb } from './compare.js';
import type { RedisCluster } from './redis-cluster.js';
import type { RedisServer } from './redis-server.js';

export type ComparedSide = RedisServer | RedisCluster;

const isCluster = (side: ComparedSide): side is RedisCluster => 'primaries' in side;

/** Every key of db `db` (a cluster: db 0 of every primary), hex key -> snapshot. */
export async function snapshotSide(side: ComparedSide, db = 0): Promise<Map<string, KeySnapshot>> {
  if (!isCluster(side)) return snapshotDb(await side.client(), db);
  const out = new Map<string, KeySnapshot>();
  for (const p of side.primaries) {
    for (const [k, v] of await snapshotDb(await p.server.client(), 0)) {
      if (out.has(k)) throw new Error(`key ${k} is on two primaries of the cluster`);
      out.set(k, v);
    }
  }
  return out;
}

/**
 * Differences between db `dbs.a` of one side and `dbs.b` of the other (0 for a cluster), as
 * readable lines; empty when they hold the same data. Both sides are read one after the other,
 * so TTLs are compared within the tolerance.
 */
export async function compareSides(
  a: ComparedSide,
  b: ComparedSide,
  dbs: { a?: number; b?: number } = {},
  options: CompareOptions = {},
): Promise<string[]> {
  const [sa, sb] = await Promise.all([snapshotSide(a, dbs.a ?? 0), snapshotSide(b, dbs.b ?? 0)]);
  return compareSnapshots(sa, sb, dbs.b ?? 0, options);
}
