// How the probe folds its primaries' facts into the cluster-wide fields (src/probe/cluster.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeCluster, type NodeProbe } from '../../../src/probe/cluster.js';
import type { ClusterProbe, ProbeResult } from '../../../src/probe/types.js';
import { probe } from '../planner/fixtures.js';

const MB = 1024 * 1024;

function node(address: string, o: Parameters<typeof probe>[0]): NodeProbe {
  return {
    address,
    probe: probe({ name: address, url: `redis://${address}`, server: { mode: 'cluster' }, ...o }),
  };
}

const topology: ClusterProbe = {
  topologyFrom: 'CLUSTER SHARDS',
  probedVia: 'a:1',
  shards: [],
  unassignedSlots: 0,
};

test('totals are sums over the primaries; differing settings take the most restrictive value', () => {
  const a = node('a:1', {
    dbs: [{ db: 0, keys: 100, expires: 10, avgTtlMs: 1000 }],
    memory: { usedBytes: 10 * MB, maxmemoryBytes: 100 * MB, policy: 'noeviction' },
    notifyKeyspaceEvents: '',
    protoMaxBulkLen: 512 * MB,
    functionLibraries: 0,
  });
  const b = node('b:2', {
    dbs: [{ db: 0, keys: 50, expires: 30, avgTtlMs: 3000 }],
    memory: { usedBytes: 20 * MB, maxmemoryBytes: 200 * MB, policy: 'allkeys-lru' },
    notifyKeyspaceEvents: 'KEA',
    protoMaxBulkLen: 64 * MB,
    functionLibraries: 2,
    missing: { MIGRATE: 'ACL: no permission' },
  });
  const merged: ProbeResult = mergeCluster(a.probe, [a, b], topology);
  assert.deepEqual(merged.databases, [{ db: 0, keys: 150, expires: 40, avgTtlMs: 2500 }]);
  assert.equal(merged.totalKeys, 150);
  assert.equal(merged.totalExpires, 40);
  assert.deepEqual(merged.memory, { usedBytes: 30 * MB, maxmemoryBytes: 300 * MB, policy: 'allkeys-lru' });
  assert.equal(merged.notifyKeyspaceEvents, null);
  assert.equal(merged.protoMaxBulkLen, 64 * MB);
  assert.equal(merged.functionLibraries, 2);
  assert.equal(merged.commands.MIGRATE.available, false);
  assert.equal(merged.commands.MIGRATE.reason, 'b:2: ACL: no permission');
  assert.equal(merged.commands.DUMP.available, true);
  assert.equal(merged.cluster, topology);
});

test('one primary without maxmemory makes the cluster unlimited; an unknown one makes it unknown', () => {
  const limited = node('a:1', { memory: { maxmemoryBytes: 100 * MB } });
  const unlimited = node('b:2', { memory: { maxmemoryBytes: 0 } });
  const unknown = node('c:3', { memory: { maxmemoryBytes: null } });
  assert.equal(mergeCluster(limited.probe, [limited, unlimited], topology).memory.maxmemoryBytes, 0);
  assert.equal(
    mergeCluster(limited.probe, [limited, unlimited, unknown], topology).memory.maxmemoryBytes,
    null,
  );
});

test('a cluster whose slots no primary owns keeps the node’s own facts and says so', () => {
  const alone = node('a:1', { protoMaxBulkLen: 512 * MB });
  const empty = { ...topology, unassignedSlots: 16384 };
  const merged = mergeCluster(alone.probe, [], empty);
  assert.equal(merged.protoMaxBulkLen, 512 * MB);
  assert.equal(merged.cluster, empty);
  assert.ok(merged.notes.some((n) => /No primary of this cluster owns a slot/.test(n)));
});
