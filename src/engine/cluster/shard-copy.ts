// copyShard (see shards.ts): one source shard's keys onto the target with the standalone copy
// engine: its ScanWalk drives the shard's node and its batch copier (size probe, DUMP/RESTORE under a
// byte budget, by-type fallback, big keys in chunks, TTLs in ms, hash field TTLs) writes to a
// target that routes each key to the node owning its slot (routed-runner.ts over router.ts:
// pipelined per node, MOVED/ASK followed). A standalone target gets the connection itself.
//
// The walk (own slots only, moved slots read again, checkpoints, identity checks) is shard-run.ts.
//
// Writes are RESTORE ... REPLACE whatever `replace` says, as the standalone engine does: the
// non-empty target policy was applied before the shards ran, and a resumed shard rewrites the keys
// of the pages it had in flight.
import { copyBatch } from '../copy/batch.js';
import { type BatchContext, batchContext } from '../copy/context.js';
import { DEFAULT_PROTO_MAX_BULK_LEN } from '../copy/session.js';
import { decideSizeProbe, readMemoryFacts } from '../copy/size-probe.js';
import { RespConnection } from '../resp/connection.js';
import { replyInt, replyText } from '../resp/reply.js';
import { supportsFieldTtls } from '../types/field-ttls.js';
import { featuresForVersion } from '../types/value.js';
import { resolveAcross } from './across-dbs.js';
import { RoutedRunner } from './routed-runner.js';
import { ClusterRouter } from './router.js';
import { openShardSource, refuseStaleReplica } from './shard-nodes.js';
import { ShardRun, type ShardWork } from './shard-run.js';
import type { ShardCopyReport, ShardRunOptions } from './shards.js';

const IN_FLIGHT_BYTES = 64 * 1024 * 1024;

export interface ShardCopyExtras {
  /** SCAN MATCH on the shard's node. */
  match?: string;
  /** SCAN COUNT (default 500). */
  batchSize?: number;
  /** Default 64 MiB. */
  bigKeyThresholdBytes?: number;
  /** Copy hashes with field TTLs to a target without them, as persistent fields. */
  dropFieldTtls?: boolean;
}

export async function copyShard(opts: ShardRunOptions & ShardCopyExtras): Promise<ShardCopyReport> {
  const { shard } = opts;
  const sides = await resolveAcross(opts.source, opts.target, opts.mapping);
  await refuseStaleReplica(opts.source, shard);
  const { sourceDb, targetDb } = sides;
  const sourceCluster = sides.source.cluster;
  const src = await openShardSource(opts.source, shard, sourceCluster, sourceDb, 'shard-source');
  const closers: (() => Promise<void> | void)[] = [() => src.destroy()];
  let router: ClusterRouter | null = null;
  try {
    const scan = await openShardSource(opts.source, shard, sourceCluster, sourceDb, 'shard-scan');
    closers.push(() => scan.destroy());
    // The target: one connection per primary for its facts and identity; writes routed by slot.
    const targetConns: RespConnection[] = [];
    closers.push(() => {
      for (const c of targetConns) c.destroy();
    });
    for (const n of sides.target.nodes) {
      targetConns.push(await RespConnection.open(n.endpoint, { role: 'shard-target-check', db: targetDb }));
    }
    let dst: RespConnection | RoutedRunner;
    if (sides.target.cluster) {
      router = await ClusterRouter.open(opts.target, { role: 'shard-target' });
      const r = router;
      closers.push(() => r.close());
      dst = new RoutedRunner(router);
    } else {
      dst = await RespConnection.open(opts.target, { role: 'shard-target', db: targetDb });
      const d = dst;
      closers.push(() => d.destroy());
    }
    const ctx = await contextFor(src, targetConns, opts);
    const d = dst;
    const work: ShardWork = { kind: 'shard-copy', page: (from, keys) => copyBatch(from, d, keys, ctx) };
    const run = new ShardRun(opts, { src, scan, targetConns, work, sourceDb, targetDb, sourceCluster });
    const report = await run.run();
    return { ...report, redirects: router ? { ...router.redirects } : null };
  } finally {
    for (const close of closers.reverse()) await close();
  }
}

/** The batch copier's context: the most restrictive of the target primaries' limits. */
async function contextFor(
  src: RespConnection,
  targets: RespConnection[],
  opts: ShardRunOptions & ShardCopyExtras,
): Promise<BatchContext> {
  const facts = await Promise.all(
    targets.map(async (t) => {
      const [server, bulk] = await t.exec([
        ['INFO', 'server'],
        ['CONFIG', 'GET', 'proto-max-bulk-len'],
      ]);
      const version = /redis_version:(\S+)/.exec(replyText(server ?? null) ?? '')?.[1] ?? '0.0.0';
      const maxBulk =
        Array.isArray(bulk) && bulk.length >= 2
          ? (replyInt(bulk[1] ?? null) ?? DEFAULT_PROTO_MAX_BULK_LEN)
          : DEFAULT_PROTO_MAX_BULK_LEN;
      return { version, maxBulk, fieldTtls: await supportsFieldTtls(t) };
    }),
  );
  const oldest = facts.reduce((a, b) => (compareVersions(a.version, b.version) <= 0 ? a : b));
  const sizeProbe = decideSizeProbe('auto', await readMemoryFacts(src));
  return batchContext(
    { targetMaxBulk: Math.min(...facts.map((f) => f.maxBulk)), features: featuresForVersion(oldest.version) },
    {
      mode: 'auto',
      bigKeyThresholdBytes: opts.bigKeyThresholdBytes,
      inFlightBytes: IN_FLIGHT_BYTES,
      sizeProbe: sizeProbe.perKey,
      deleteMissing: false,
      fieldTtls: {
        read: await supportsFieldTtls(src),
        write: facts.every((f) => f.fieldTtls),
        drop: opts.dropFieldTtls === true,
      },
      logger: opts.logger,
    },
  );
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}
