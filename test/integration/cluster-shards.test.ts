// copyShard over every shard of a source, on real servers, checked with the independent
// comparison (test/harness/compare-cluster.ts): each topology pair, hash tags, every type, big keys
// in chunks, TTLs; a resharding of the target during the copy and of the source during the scan;
// a shard stopped and resumed from its checkpoint; a replica read.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import {
  copyShard,
  listSourceShards,
  type ShardCopyReport,
  type SourceShard,
} from '../../src/engine/cluster/shards.js';
import { dbMapping } from '../../src/engine/db-mapping.js';
import { type Endpoint, parseEndpointUrl } from '../../src/redis/endpoint.js';
import { createLogger } from '../../src/util/logger.js';
import { compareSides } from '../harness/compare-cluster.js';
import { type RedisCluster, startCluster } from '../harness/redis-cluster.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { fillEveryType } from './copy-fixtures.js';

const logger = createLogger({ level: 'silent' });

async function fill(c: Redis, prefix: string, plainKeys = 300): Promise<void> {
  await fillEveryType(c, prefix);
  for (let i = 0; i < 40; i++) await c.set(`{${prefix}user${i % 5}}.field${i}`, `tagged-${i}`);
  for (let i = 0; i < plainKeys; i++) {
    if (i % 4 === 0) await c.set(`${prefix}k:${i}`, `v${i}`, 'PX', 600_000);
    else await c.set(`${prefix}k:${i}`, `v${i}`);
  }
}

async function flushSide(side: RedisCluster | RedisServer): Promise<void> {
  if ('primaries' in side) for (const p of side.primaries) await (await p.server.client()).flushall();
  else await (await side.client()).flushall();
}

async function copyAll(
  source: Endpoint,
  target: Endpoint,
  extra: { bigKeyThresholdBytes?: number; batchSize?: number } = {},
  shards?: SourceShard[],
): Promise<ShardCopyReport[]> {
  const list = shards ?? (await listSourceShards(source));
  const reports: ShardCopyReport[] = [];
  for (const shard of list) {
    reports.push(
      await copyShard({
        source,
        target,
        shard,
        mapping: dbMapping(source, target, undefined),
        replace: false,
        logger,
        ...extra,
      }),
    );
  }
  return reports;
}

describe('copyShard', () => {
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

  test('standalone db 2 -> cluster: one shard, big keys in chunks, every type and TTL equal', async () => {
    await fill(await standalone.client(2), 's:');
    const source = parseEndpointUrl(`${standalone.url}/2`);
    const target = parseEndpointUrl(`${three.url}/0`);
    const shards = await listSourceShards(source);
    assert.deepEqual(
      shards.map((s) => ({ id: s.id, slots: s.slots })),
      [{ id: 'standalone', slots: [] }],
    );
    const [report] = await copyAll(source, target, { bigKeyThresholdBytes: 16 * 1024, batchSize: 50 });
    assert.deepEqual(report!.failed, []);
    assert.equal(report!.complete, true);
    assert.ok(report!.bigKeys > 0, 'some keys went through the chunked path');
    assert.equal(report!.copied, await (await standalone.client(2)).dbsize());
    assert.deepEqual(await compareSides(standalone, three, { a: 2 }), []);
    await flushSide(three);
  });

  test('cluster -> standalone: one shard per primary, each reads its own keys', async () => {
    await fill((await three.client()) as unknown as Redis, 'c:');
    const source = parseEndpointUrl(`${three.url}/0`);
    const shards = await listSourceShards(source);
    assert.equal(shards.length, 3);
    assert.deepEqual(shards.map((s) => s.id).sort(), three.primaries.map((p) => p.id).sort());
    for (const s of shards) assert.equal(s.readFrom, s.primary);
    const reports = await copyAll(source, parseEndpointUrl(`${empty.url}/4`), {
      bigKeyThresholdBytes: 16 * 1024,
    });
    for (const r of reports) {
      assert.deepEqual(r.failed, []);
      assert.equal(r.complete, true);
      assert.ok(r.copied > 0);
      assert.equal(r.redirects, null);
    }
    assert.deepEqual(await compareSides(three, empty, { b: 4 }), []);
    await flushSide(empty);
  });

  test('cluster (3 shards) -> cluster (2 shards): equal, hash-tagged keys together', async () => {
    // `three` holds the previous test's keys.
    const reports = await copyAll(parseEndpointUrl(three.url), parseEndpointUrl(two.url), {
      bigKeyThresholdBytes: 16 * 1024,
    });
    for (const r of reports) assert.deepEqual([r.complete, r.failed], [true, []]);
    assert.deepEqual(await compareSides(three, two), []);
    const owner = await two.nodeOfSlot(await two.keySlot('{c:user3}.field3'));
    const onOwner = await owner.server.client();
    for (const i of [3, 8, 13, 18]) assert.equal(await onOwner.get(`{c:user3}.field${i}`), `tagged-${i}`);
    await flushSide(two);
  });
});
