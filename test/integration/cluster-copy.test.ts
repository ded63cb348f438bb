// copyAcrossTopologies on real servers, checked with the independent comparison (plain per-node
// reads, test/harness/compare-cluster.ts): standalone -> cluster, cluster -> standalone,
// cluster -> cluster with another shard count and layout, hash-tagged keys, and a resharding on
// the target while the copy runs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { copyAcrossTopologies } from '../../src/engine/cluster/copy-across.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { compareSides } from '../harness/compare-cluster.js';
import { type RedisCluster, startCluster } from '../harness/redis-cluster.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { fillEveryType } from './copy-fixtures.js';

/** Every type, plus hash-tagged families and plain keys with and without TTLs. */
async function fill(c: Redis, prefix: string, plainKeys = 400): Promise<void> {
  await fillEveryType(c, prefix);
  for (let i = 0; i < 50; i++) await c.set(`{${prefix}user${i % 5}}.field${i}`, `tagged-${i}`);
  for (let i = 0; i < plainKeys; i++) {
    if (i % 4 === 0) await c.set(`${prefix}k:${i}`, `v${i}`, 'PX', 600_000);
    else await c.set(`${prefix}k:${i}`, `v${i}`);
  }
}

async function flushCluster(cluster: RedisCluster): Promise<void> {
  for (const p of cluster.primaries) await (await p.server.client()).flushall();
}

describe('copy across topologies', () => {
  let three: RedisCluster;
  let two: RedisCluster;
  let standalone: RedisServer;
  let empty: RedisServer;

  before(async () => {
    [three, two, standalone, empty] = await Promise.all([
      startCluster({ primaries: 3 }),
      startCluster({ primaries: 2 }),
      startRedis(),
      startRedis(),
    ]);
  });
  after(async () => {
    await Promise.all([three?.stop(), two?.stop(), standalone?.stop(), empty?.stop()]);
  });

  test('standalone db 2 -> cluster: every key on the node owning its slot, values and TTLs equal', async () => {
    await fill(await standalone.client(2), 's:');
    const report = await copyAcrossTopologies(parseEndpointUrl(standalone.url), parseEndpointUrl(three.url), {
      sourceDb: 2,
      batchSize: 64,
    });
    assert.deepEqual(report.failed, []);
    assert.deepEqual(await compareSides(standalone, three, { a: 2 }), []);
    assert.equal(report.copied, await (await standalone.client(2)).dbsize());
    await flushCluster(three);
  });

  test('cluster -> standalone: each primary scanned on its own, all keys in one db', async () => {
    const c = await three.client();
    await fill(c as unknown as Redis, 'c:');
    const report = await copyAcrossTopologies(parseEndpointUrl(three.url), parseEndpointUrl(empty.url), {
      targetDb: 4,
    });
    assert.deepEqual(report.failed, []);
    assert.equal(Object.keys(report.perSourceNode).length, 3);
    for (const n of Object.values(report.perSourceNode)) assert.ok(n > 0);
    assert.deepEqual(await compareSides(three, empty, { b: 4 }), []);
    await (await empty.client()).flushall();
  });

  test('cluster (3 shards) -> cluster (2 shards, another layout): equal, hash tags kept together', async () => {
    // `three` still holds the previous test's keys.
    const report = await copyAcrossTopologies(parseEndpointUrl(three.url), parseEndpointUrl(two.url));
    assert.deepEqual(report.failed, []);
    assert.deepEqual(await compareSides(three, two), []);
    const tagged = await two.keySlot('{c:user3}.field3');
    const owner = await two.nodeOfSlot(tagged);
    const onOwner = await owner.server.client();
    for (const i of [3, 8, 13, 18]) assert.equal(await onOwner.get(`{c:user3}.field${i}`), `tagged-${i}`);
    await flushCluster(two);
  });

  test('a resharding on the target during the copy: MOVED is followed and no key is lost', async () => {
    // After the first pipeline, 1,000 slots move from one target primary to the other: later keys
    // of those slots are sent to the old owner with the map read at the start, which answers MOVED.
    const slots = Array.from({ length: 1000 }, (_, i) => i);
    const to = two.primaries[1]!;
    let resharded = false;
    const done = await copyAcrossTopologies(parseEndpointUrl(three.url), parseEndpointUrl(two.url), {
      batchSize: 20,
      onBatch: async () => {
        if (resharded) return;
        resharded = true;
        await two.reshard(slots, to);
      },
    });
    assert.deepEqual(done.failed, []);
    assert.ok((done.redirects?.moved ?? 0) > 0, JSON.stringify(done.redirects));
    for (const s of [0, 500, 999]) assert.equal((await two.nodeOfSlot(s)).id, to.id);
    assert.deepEqual(await compareSides(three, two), []);
  });
});
