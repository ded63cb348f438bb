// verifyAcrossTopologies on real servers after copyAcrossTopologies: identical copies are called
// identical, and differences made on purpose are found with their kind and nodes, as the
// independent comparison (plain per-node reads) finds them too.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { copyAcrossTopologies } from '../../src/engine/cluster/copy-across.js';
import { verifyAcrossTopologies } from '../../src/engine/cluster/verify-across.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { compareSides } from '../harness/compare-cluster.js';
import { type RedisCluster, startCluster } from '../harness/redis-cluster.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { fillEveryType } from './copy-fixtures.js';

async function fill(c: Redis, prefix: string): Promise<void> {
  await fillEveryType(c, prefix);
  for (let i = 0; i < 50; i++) await c.set(`{${prefix}user${i % 5}}.field${i}`, `tagged-${i}`);
  for (let i = 0; i < 300; i++) {
    if (i % 4 === 0) await c.set(`${prefix}k:${i}`, `v${i}`, 'PX', 600_000);
    else await c.set(`${prefix}k:${i}`, `v${i}`);
  }
}

const url = (side: RedisServer | RedisCluster) => parseEndpointUrl(side.url);

describe('verify across topologies', () => {
  let three: RedisCluster;
  let two: RedisCluster;
  let standalone: RedisServer;

  before(async () => {
    [three, two, standalone] = await Promise.all([
      startCluster({ primaries: 3 }),
      startCluster({ primaries: 2 }),
      startRedis(),
    ]);
    await fill(await standalone.client(2), 's:');
    await copyAcrossTopologies(url(standalone), url(three), { sourceDb: 2 });
    await copyAcrossTopologies(url(three), url(two));
  });
  after(async () => {
    await Promise.all([three?.stop(), two?.stop(), standalone?.stop()]);
  });

  test('identical copies: standalone -> cluster, cluster -> cluster both ways, cluster -> standalone', async () => {
    // The same big set written in opposite orders: equal values whose payloads differ (hash-table
    // order), settled by reading the members.
    const members = Array.from({ length: 600 }, (_, i) => `m-${i}`);
    const src = await standalone.client(2);
    await src.sadd('order:set', ...members);
    const c = await three.client();
    await c.sadd('order:set', ...members.reverse());
    const owner = await (await three.nodeOfSlot(await three.keySlot('order:set'))).server.client();
    assert.notDeepEqual(await src.dumpBuffer('order:set'), await owner.dumpBuffer('order:set'));
    assert.deepEqual(await compareSides(standalone, three, { a: 2 }), []);
    const keys = await (await standalone.client(2)).dbsize();
    const s2c = await verifyAcrossTopologies(url(standalone), url(three), { sourceDb: 2 });
    assert.deepEqual(s2c.differences, []);
    assert.equal(s2c.identical, true);
    assert.equal(
      Object.values(s2c.compared).reduce((a, b) => a + b, 0),
      keys,
    );
    await src.del('order:set');
    await c.del('order:set');
    for (const [from, to] of [
      [three, two],
      [two, three],
    ] as const) {
      const r = await verifyAcrossTopologies(url(from), url(to));
      assert.deepEqual(r.differences, [], `${from.url} -> ${to.url}`);
      assert.equal(Object.keys(r.compared).length, from.primaries.length);
    }
    const c2s = await verifyAcrossTopologies(url(three), url(standalone), { targetDb: 2 });
    assert.deepEqual(c2s.differences, []);
  });

  test('differences are found with their kind and the nodes of their keys, as the independent comparison finds them', async () => {
    const c = await two.client();
    await c.del('s:k:1');
    await c.set('s:k:2', 'changed');
    await c.persist('s:k:4');
    await c.set('only-on-target', 'x');
    await c.del('s:k:3');
    await c.rpush('s:k:3', 'now a list');
    const r = await verifyAcrossTopologies(url(three), url(two));
    const found = r.differences.map((d) => `${d.kind} ${d.key.toString()}`).sort();
    assert.deepEqual(found, [
      'extra only-on-target',
      'missing s:k:1',
      'ttl s:k:4',
      'type s:k:3',
      'value s:k:2',
    ]);
    assert.equal(r.identical, false);
    for (const d of r.differences) {
      const owner = await two.nodeOfSlot(await two.keySlot(d.key));
      assert.equal(d.targetNode, `${owner.server.host}:${owner.server.port}`, d.key.toString());
      const sourceOwner = await three.nodeOfSlot(await three.keySlot(d.key));
      assert.equal(d.sourceNode, `${sourceOwner.server.host}:${sourceOwner.server.port}`, d.key.toString());
    }
    const independent = await compareSides(three, two);
    for (const key of ['s:k:1', 's:k:2', 's:k:3', 's:k:4', 'only-on-target']) {
      assert.ok(
        independent.some((line) => line.includes(` ${key}:`)),
        `${key} in ${JSON.stringify(independent)}`,
      );
    }
  });
});
