// The planner's cluster rules (src/planner/topology.ts, cluster-facts.ts) on probe fixtures.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { slotOverlap, targetShardLoads } from '../../../src/planner/cluster-facts.js';
import { planMigration } from '../../../src/planner/plan.js';
import type { Plan, PlanOptions } from '../../../src/planner/types.js';
import type { ProbeResult } from '../../../src/probe/types.js';
import { clusterProbe, MB, options, source, THREE_SHARDS, target } from './fixtures.js';

const plan = (s: ProbeResult, t: ProbeResult, o: Partial<PlanOptions> = {}) =>
  planMigration(s, t, options(o));
const codes = (findings: { code: string }[]) => findings.map((f) => f.code).sort();
const reasons = (p: Plan, strategy: string) => p.assessments.find((a) => a.strategy === strategy)!;

const threeShards = (o: { name?: string; keys?: number; maxmemoryBytes?: number } = {}) =>
  clusterProbe(
    THREE_SHARDS.map((slots) => ({
      slots,
      keys: o.keys ?? 0,
      ...(o.maxmemoryBytes !== undefined ? { maxmemoryBytes: o.maxmemoryBytes } : {}),
    })),
    { name: o.name ?? 'dst' },
  );

test('standalone -> cluster: dump-restore planned; replication and MIGRATE ruled out with the reason', () => {
  const p = plan(source(), threeShards());
  assert.equal(reasons(p, 'dump-restore').viable, true);
  assert.equal(reasons(p, 'migrate').viable, false);
  assert.match(
    reasons(p, 'migrate').reasons.join(';'),
    /MIGRATE executors move keys between two servers only/,
  );
  assert.equal(reasons(p, 'replication').viable, false);
  assert.match(
    reasons(p, 'replication').reasons.join(';'),
    /target is a Redis Cluster: its nodes refuse REPLICAOF/,
  );
  assert.deepEqual(codes(p.blockers), []);
  assert.equal(p.strategy, 'dump-restore');
  assert.ok(
    p.steps.some((s) => s.kind === 'live_sync'),
    'live sync and the write pause on every primary',
  );
  assert.ok(codes(p.warnings).includes('cluster-target-same-slot'));
});

test('cluster -> standalone and cluster -> cluster (other shard counts and layouts): dump-restore', () => {
  const src = clusterProbe(
    THREE_SHARDS.map((slots) => ({ slots, keys: 1000 })),
    { name: 'src' },
  );
  const toOne = plan(src, target());
  assert.match(
    reasons(toOne, 'replication').reasons.join(';'),
    /source is a Redis Cluster: a replica of one node/,
  );
  assert.deepEqual(
    toOne.assessments.filter((a) => a.viable).map((a) => a.strategy),
    ['dump-restore'],
  );
  assert.deepEqual(codes(toOne.blockers), []);
  assert.equal(toOne.strategy, 'dump-restore');
  const twoShards = clusterProbe(
    [
      {
        slots: [
          [0, 99],
          [8000, 16383],
        ],
        keys: 0,
      },
      { slots: [[100, 7999]], keys: 0 },
    ],
    { name: 'dst' },
  );
  const toTwo = plan(src, twoShards);
  assert.deepEqual(
    toTwo.assessments.filter((a) => a.viable).map((a) => a.strategy),
    ['dump-restore'],
  );
  assert.deepEqual(codes(toTwo.blockers), []);
  assert.equal(toTwo.strategy, 'dump-restore');
});

test('a standalone source with keys outside db 0: a blocker naming them, unless the chosen databases map to db 0', () => {
  const src = source({ dbs: { 0: 100, 3: 40, 5: 2 } });
  const dst = threeShards();
  const all = plan(src, dst);
  const db = all.blockers.find((b) => b.code === 'cluster-target-db-zero-only');
  assert.ok(db, JSON.stringify(all.blockers));
  assert.match(db.message, /db 3, 5 .*db 3: 40 keys, db 5: 2 keys/);
  assert.ok(!codes(all.blockers).includes('target-too-few-databases'));
  // The URLs map db 3 into db 0.
  const remapped = plan(src, dst, { dbs: [3], dbsFromUrl: true, dbRemap: { from: 3, to: 0 } });
  assert.ok(!codes(remapped.blockers).includes('cluster-target-db-zero-only'));
  // --db 0: only db 0, into db 0.
  const dbZero = plan(src, dst, { dbs: [0] });
  assert.ok(!codes(dbZero.blockers).includes('cluster-target-db-zero-only'));
});

test('target capacity per shard: the source spread by slots, said to be an estimate', () => {
  const src = source({ memory: { usedBytes: 300 * MB }, dbs: { 0: 30_000 } });
  const small = plan(src, threeShards({ maxmemoryBytes: 64 * MB }));
  const tooSmall = small.blockers.filter((b) => b.code === 'target-shard-too-small');
  assert.equal(tooSmall.length, 3);
  assert.match(
    tooSmall[0]!.message,
    /dst-0\.example:7000 \(slots 0-5460\) has maxmemory 64\.0 MiB.*about 100\.0 MiB.*estimate/,
  );
  // The whole-target check does not repeat it with the sum of the limits.
  assert.ok(!codes(small.blockers).includes('target-too-small'));
  assert.ok(
    !codes(plan(src, threeShards({ maxmemoryBytes: 200 * MB })).blockers).includes('target-shard-too-small'),
  );
  // A partial copy may fit: a warning.
  const partial = plan(src, threeShards({ maxmemoryBytes: 64 * MB }), { match: 'user:*' });
  assert.ok(!codes(partial.blockers).includes('target-shard-too-small'));
  assert.ok(codes(partial.warnings).includes('target-shard-may-be-too-small'));
});

test('cluster -> cluster capacity follows where each source shard’s slots land', () => {
  const src = clusterProbe(
    [
      { slots: [[0, 5460]], keys: 20_000, usedBytes: 200 * MB },
      { slots: [[5461, 16383]], keys: 1000, usedBytes: 10 * MB },
    ],
    { name: 'src' },
  );
  const dst = clusterProbe(
    [
      { slots: [[0, 8191]], keys: 0, maxmemoryBytes: 150 * MB },
      { slots: [[8192, 16383]], keys: 0, maxmemoryBytes: 150 * MB },
    ],
    { name: 'dst' },
  );
  const loads = targetShardLoads(src, dst, { keys: src.totalKeys, bytes: src.memory.usedBytes });
  // Shard 0 gets all of source shard 0 and 2731 of source shard 1's 10923 slots.
  assert.equal(loads[0]!.keys, 20_000 + Math.round((1000 * 2731) / 10923));
  assert.equal(loads[0]!.keys + loads[1]!.keys, 21_000);
  const p = plan(src, dst);
  const tooSmall = p.blockers.filter((b) => b.code === 'target-shard-too-small');
  assert.equal(tooSmall.length, 1);
  assert.match(tooSmall[0]!.message, /dst-0\.example:7000 \(slots 0-8191\)/);
});

test('source and target in the same cluster, and slots nobody owns, are blockers', () => {
  const a = threeShards({ name: 'same' });
  const b = {
    ...threeShards({ name: 'same' }),
    endpoint: { name: 'other', redactedUrl: 'redis://same-1.example:7000' },
  };
  assert.ok(codes(plan(a, b).blockers).includes('same-endpoint'));
  const holes = clusterProbe([{ slots: [[0, 9999]], keys: 0 }], { name: 'dst' });
  const p = plan(source(), holes);
  const blocker = p.blockers.find((x) => x.code === 'cluster-slots-unassigned');
  assert.ok(blocker);
  assert.match(blocker.message, /target cluster has 6,384 slots of 16384 that no primary owns/);
});

test('per-node facts that differ: versions and policies warn, different source libraries block', () => {
  const src = clusterProbe(
    [
      { slots: [[0, 8191]], keys: 10, facts: { version: '7.0.15', functionLibraries: 1 } },
      { slots: [[8192, 16383]], keys: 10, facts: { version: '7.2.4', functionLibraries: 0 } },
    ],
    { name: 'src' },
  );
  const dst = clusterProbe(
    [
      { slots: [[0, 8191]], keys: 0, facts: { policy: 'allkeys-lru' } },
      { slots: [[8192, 16383]], keys: 0 },
    ],
    { name: 'dst' },
  );
  const p = plan(src, dst);
  const version = p.warnings.find((w) => w.code === 'cluster-source-version-differs');
  assert.ok(version);
  assert.match(
    version.message,
    /redis 7\.0\.15 on src-0\.example:7000; redis 7\.2\.4 on src-1\.example:7000/,
  );
  assert.ok(codes(p.warnings).includes('cluster-target-policy-differs'));
  assert.ok(codes(p.blockers).includes('cluster-source-functions-differ'));
});

test('a cluster named through a replica node is not refused as a replica; MIGRATE reachability names the nodes', () => {
  const viaReplica = {
    ...threeShards({ name: 'dst' }),
    replication: { role: 'replica' as const, connectedReplicas: 0, replOffset: 0 },
  };
  const p = plan(source(), viaReplica);
  assert.ok(!codes(p.blockers).includes('target-is-replica'));
  const srcViaReplica = { ...threeShards({ name: 'src', keys: 10 }), replication: viaReplica.replication };
  const m = plan(srcViaReplica, target(), { sourceCanReachTarget: false });
  const why = reasons(m, 'migrate').reasons.join(';');
  assert.doesNotMatch(why, /source is a replica/);
  assert.match(why, /source nodes cannot reach the target nodes/);
});

test('slotOverlap counts common slots of range lists', () => {
  assert.equal(slotOverlap([[0, 99]], [[50, 149]]), 50);
  assert.equal(
    slotOverlap(
      [
        [0, 9],
        [20, 29],
      ],
      [[5, 24]],
    ),
    10,
  );
  assert.equal(slotOverlap([[0, 9]], [[10, 19]]), 0);
});
