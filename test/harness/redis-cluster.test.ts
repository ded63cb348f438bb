import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { CLUSTER_SLOTS, evenSlotRanges, startCluster } from './redis-cluster.js';

test('evenSlotRanges covers every slot once', () => {
  for (const n of [1, 2, 3, 5]) {
    const ranges = evenSlotRanges(n);
    assert.equal(ranges.length, n);
    assert.equal(ranges[0]![0], 0);
    assert.equal(ranges.at(-1)![1], CLUSTER_SLOTS - 1);
    for (let i = 1; i < n; i++) assert.equal(ranges[i]![0], ranges[i - 1]![1] + 1);
  }
});

test('cluster harness: 3 primaries join, keys land on the slot owner, reshard moves slot and keys', async () => {
  const cluster = await startCluster({ primaries: 3, password: 'cluster-secret' });
  const pids = cluster.nodes.map((n) => n.server.pid);
  try {
    assert.equal(cluster.primaries.length, 3);
    assert.equal(cluster.replicas.length, 0);
    const c = await cluster.client();
    for (let i = 0; i < 200; i++) await c.set(`key:${i}`, `v${i}`);
    // A plain (non-cluster) client on the owner holds the key; another primary answers MOVED.
    const slot = await cluster.keySlot('key:7');
    const owner = await cluster.nodeOfSlot(slot);
    const direct = new Redis({
      host: owner.server.host,
      port: owner.server.port,
      password: 'cluster-secret',
    });
    const other = cluster.primaries.find((p) => p.id !== owner.id)!;
    const elsewhere = new Redis({
      host: other.server.host,
      port: other.server.port,
      password: 'cluster-secret',
    });
    try {
      assert.equal(await direct.get('key:7'), 'v7');
      await assert.rejects(elsewhere.get('key:7'), /MOVED/);
      // Hash tags: both keys hash on "user1" only.
      assert.equal(await cluster.keySlot('{user1}.a'), await cluster.keySlot('{user1}.b'));

      await cluster.reshard([slot], other);
      assert.equal((await cluster.nodeOfSlot(slot)).id, other.id);
      assert.equal(await elsewhere.get('key:7'), 'v7');
      await assert.rejects(direct.get('key:7'), /MOVED/);
      assert.equal(await c.get('key:7'), 'v7');
      let total = 0;
      for (const p of cluster.primaries) {
        total += await (await p.server.client()).dbsize();
      }
      assert.equal(total, 200);
    } finally {
      direct.disconnect();
      elsewhere.disconnect();
    }
  } finally {
    await cluster.stop();
  }
  for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/);
});

test('cluster harness: a replica per primary follows its primary', async () => {
  const cluster = await startCluster({ primaries: 3, replicasPerPrimary: 1 });
  try {
    assert.equal(cluster.replicas.length, 3);
    for (const r of cluster.replicas) {
      const client = await r.server.client();
      const info = await client.info('replication');
      assert.match(info, /role:slave/);
      const primary = cluster.primaries.find((p) => p.id === r.primaryId)!;
      assert.match(info, new RegExp(`master_port:${primary.server.port}`));
    }
  } finally {
    await cluster.stop();
  }
});
