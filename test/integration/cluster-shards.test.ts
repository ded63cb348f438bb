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
  loadFunctionsOnTargets,
  migrateShard,
  type ShardCopyReport,
  type SourceShard,
  verifyShard,
} from '../../src/engine/cluster/shards.js';
import { keySlot } from '../../src/engine/cluster/slot.js';
import { dbMapping } from '../../src/engine/db-mapping.js';
import { type Endpoint, parseEndpointUrl } from '../../src/redis/endpoint.js';
import { createLogger } from '../../src/util/logger.js';
import { compareSides } from '../harness/compare-cluster.js';
import { type RedisCluster, startCluster } from '../harness/redis-cluster.js';
import { type RedisServer, serverUnavailable, startRedis } from '../harness/redis-server.js';
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

  test('a resharding of the target during the copy: MOVED followed, every key where its slot is', async () => {
    // `three` still holds the 'c:' keys. Slots of target keys on two's first primary move to its second.
    const source = parseEndpointUrl(three.url);
    const slots = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const slot = await two.keySlot(`c:k:${i}`);
      if ((await two.nodeOfSlot(slot)).id === two.primaries[0]!.id) slots.add(slot);
      if (slots.size >= 120) break;
    }
    let resharded = false;
    const reports: ShardCopyReport[] = [];
    for (const shard of await listSourceShards(source)) {
      reports.push(
        await copyShard({
          source,
          target: parseEndpointUrl(two.url),
          shard,
          mapping: dbMapping(source, parseEndpointUrl(two.url), undefined),
          replace: false,
          logger,
          batchSize: 10,
          onProgress: async () => {
            if (resharded) return;
            resharded = true;
            await two.reshard([...slots], two.primaries[1]!);
          },
        }),
      );
    }
    for (const r of reports) assert.deepEqual([r.complete, r.failed], [true, []]);
    assert.ok(
      reports[0]!.redirects!.moved + reports[0]!.redirects!.ask > 0,
      'the first shard was redirected',
    );
    assert.deepEqual(await compareSides(three, two), []);
    await flushSide(two);
  });

  test('a resharding of the source during the scan: moved slots read again on their new owner', async () => {
    const source = parseEndpointUrl(`${three.url}/0`);
    const shards = await listSourceShards(source); // as listed before the resharding
    const first = shards[0]!;
    const moving = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const slot = await three.keySlot(`c:k:${i}`);
      if ((await three.nodeOfSlot(slot)).id === first.id) moving.add(slot);
      if (moving.size >= 60) break;
    }
    let resharded = false;
    const reports: ShardCopyReport[] = [];
    for (const shard of shards) {
      reports.push(
        await copyShard({
          source,
          target: parseEndpointUrl(`${empty.url}/0`),
          shard,
          mapping: dbMapping(source, parseEndpointUrl(`${empty.url}/0`), undefined),
          replace: false,
          logger,
          batchSize: 10,
          onProgress: async () => {
            if (resharded || shard !== first) return;
            resharded = true;
            const to = three.primaries.find((p) => p.id !== first.id)!;
            await three.reshard([...moving], to);
          },
        }),
      );
    }
    assert.ok(resharded);
    for (const r of reports) assert.deepEqual([r.complete, r.failed], [true, []]);
    assert.deepEqual(await compareSides(three, empty), []);
    await flushSide(empty);
  });

  test('a shard stopped by its signal resumes from its checkpoint and completes', async () => {
    const source = parseEndpointUrl(three.url);
    const target = parseEndpointUrl(two.url);
    let state: unknown = null;
    const store = {
      load: async () => (state === null ? null : structuredClone(state)),
      save: async (s: unknown) => {
        state = structuredClone(s);
      },
    };
    const shards = await listSourceShards(source);
    const big = shards.reduce((a, b) => (slotTotal(a) >= slotTotal(b) ? a : b));
    const stop = new AbortController();
    const base = {
      source,
      target,
      shard: big,
      mapping: dbMapping(source, target, undefined),
      replace: false,
      logger,
    };
    const stopped = await copyShard({
      ...base,
      batchSize: 10,
      checkpoint: store,
      signal: stop.signal,
      onProgress: () => stop.abort(),
    });
    assert.equal(stopped.complete, false);
    assert.match(stopped.incompleteReason ?? '', /stopped/);
    const saved = state as { dbs: { cursor: string; done: boolean }[]; counters: { keysCopied: number } };
    assert.equal(saved.dbs[0]!.done, false);
    assert.notEqual(saved.dbs[0]!.cursor, '0', 'the checkpoint holds the cursor after the last batch');
    const before = saved.counters.keysCopied;
    assert.ok(before > 0);
    let firstSeen: number | null = null;
    const resumed = await copyShard({
      ...base,
      batchSize: 10,
      checkpoint: store,
      onProgress: (p) => {
        firstSeen ??= p.copied;
      },
    });
    assert.equal(resumed.complete, true);
    assert.ok(firstSeen !== null && firstSeen >= before, 'the resumed run counts on from the checkpoint');
    // Another shard's checkpoint is refused.
    const other = shards.find((s) => s !== big)!;
    await assert.rejects(copyShard({ ...base, shard: other, checkpoint: store }), /belongs to shard/);
    for (const shard of shards.filter((s) => s !== big)) await copyShard({ ...base, shard });
    assert.deepEqual(await compareSides(three, two), []);
  });

  test('verifyShard: identical after the copy, then names the shard of a missing, extra, changed and TTL difference', async () => {
    // `two` holds the copy of `three` from the previous test.
    const source = parseEndpointUrl(three.url);
    const target = parseEndpointUrl(two.url);
    const shards = await listSourceShards(source);
    const verify = async () => {
      const out = [];
      for (const shard of shards) {
        out.push(
          await verifyShard({
            source,
            target,
            shard,
            mapping: dbMapping(source, target, undefined),
            replace: false,
            logger,
            ttlToleranceMs: 2000,
            reverse: true,
          }),
        );
      }
      return out;
    };
    for (const r of await verify()) assert.deepEqual([r.identical, r.differences], [true, []]);
    const t = await two.client();
    await t.del('c:k:1');
    await t.set('c:extra', 'only here');
    await t.set('c:k:2', 'changed');
    await t.pexpire('c:k:3', 5_000_000);
    const reports = await verify();
    const found = reports.flatMap((r) => r.differences.map((d) => ({ ...d, reportShard: r.shard })));
    const byKey = new Map(found.map((d) => [d.key.toString(), d] as const));
    const expect = { 'c:k:1': 'missing', 'c:extra': 'extra', 'c:k:2': 'value', 'c:k:3': 'ttl' };
    for (const [key, kind] of Object.entries(expect)) {
      const d = byKey.get(key);
      assert.ok(d, `${key} reported`);
      assert.equal(d.kind, kind);
      const owner = shards.find((s) => s.slots.some(([a, b]) => keySlotOf(key) >= a && keySlotOf(key) <= b))!;
      assert.equal(d.sourceShard, owner.id, `${key} names the shard owning its slot`);
      assert.equal(d.reportShard, owner.id);
      const targetOwner = await two.nodeOfSlot(keySlotOf(key));
      assert.equal(d.targetNode, `${targetOwner.server.host}:${targetOwner.server.port}`);
    }
    assert.equal(found.length, 4);
    for (const r of reports) assert.equal(r.identical, r.differences.length === 0);
    await flushSide(two);
  });

  test('verifyShard after its slots moved on the source: the moved keys are compared on their new owner', async () => {
    const source = parseEndpointUrl(three.url);
    const target = parseEndpointUrl(two.url);
    await copyAll(source, target);
    const shards = await listSourceShards(source); // listed before the resharding below
    const key = 'c:k:7';
    const shard = shards.find((s) => s.slots.some(([a, b]) => keySlotOf(key) >= a && keySlotOf(key) <= b))!;
    await (await two.client()).set(key, 'changed on the target');
    const to = three.primaries.find((p) => p.id !== shard.id)!;
    await three.reshard([keySlotOf(key)], to);
    const r = await verifyShard({
      source,
      target,
      shard,
      mapping: dbMapping(source, target, undefined),
      replace: false,
      logger,
      ttlToleranceMs: 2000,
      reverse: true,
    });
    assert.equal(r.identical, false);
    assert.deepEqual(
      r.differences.map((d) => [d.key.toString(), d.kind, d.sourceShard, d.sourceNode]),
      [[key, 'value', shard.id, `${to.server.host}:${to.server.port}`]],
    );
    await flushSide(two);
  });

  test('migrateShard: every source primary MIGRATEs its keys to the target node owning each slot', async () => {
    const source = parseEndpointUrl(three.url);
    const target = parseEndpointUrl(two.url);
    for (const shard of await listSourceShards(source)) {
      const r = await migrateShard({
        source,
        target,
        shard,
        mapping: dbMapping(source, target, undefined),
        replace: true,
        logger,
      });
      assert.deepEqual([r.complete, r.failed], [true, []]);
      assert.ok(r.copied > 0);
    }
    assert.deepEqual(await compareSides(three, two), []);
    await flushSide(two);
  });

  test('loadFunctionsOnTargets: the source libraries on every target primary', async () => {
    for (const p of three.primaries)
      await (await p.server.client()).call('FUNCTION', 'LOAD', 'REPLACE', LIBRARY);
    const report = await loadFunctionsOnTargets(
      parseEndpointUrl(three.url),
      parseEndpointUrl(two.url),
      'replace',
    );
    assert.equal(report.libraries, 1);
    assert.equal(Object.keys(report.perTargetNode).length, 2);
    for (const p of two.primaries) {
      const list = (await (await p.server.client()).call('FUNCTION', 'LIST')) as unknown[][];
      assert.equal(list.length, 1);
    }
    for (const p of [...three.primaries, ...two.primaries])
      await (await p.server.client()).call('FUNCTION', 'FLUSH');
  });
});

const LIBRARY = "#!lua name=shardlib\nredis.register_function('shardfn', function() return 1 end)";

function slotTotal(s: SourceShard): number {
  return s.slots.reduce((n, [a, b]) => n + b - a + 1, 0);
}

function keySlotOf(key: string): number {
  return keySlot(Buffer.from(key));
}

describe('copyShard from replicas', () => {
  let cluster: RedisCluster;
  let target: RedisServer;

  before(async () => {
    [cluster, target] = await Promise.all([
      startCluster({ primaries: 3, replicasPerPrimary: 1 }),
      startRedis(),
    ]);
    await fill((await cluster.client()) as unknown as Redis, 'r:', 150);
    for (const p of cluster.primaries) await (await p.server.client()).call('WAIT', '1', '5000');
  });
  after(async () => {
    await Promise.all([cluster?.stop(), target?.stop()]);
  });

  const address = (n: { server: RedisServer }) => `${n.server.host}:${n.server.port}`;

  test('readFromReplica: each shard read on its in-sync replica, the primaries not read', async () => {
    const source = parseEndpointUrl(`${cluster.url}/0`);
    const shards = await listSourceShards(source, { readFromReplica: true });
    for (const s of shards) {
      const replica = cluster.replicas.find((r) => address(r) === s.readFrom);
      assert.ok(replica, `${s.readFrom} is a replica`);
      assert.equal(replica.primaryId, s.id);
    }
    const reports = await copyAll(source, parseEndpointUrl(`${target.url}/0`), {}, shards);
    for (const r of reports) assert.deepEqual([r.complete, r.failed], [true, []]);
    assert.deepEqual(await compareSides(cluster, target), []);
    const dumps = async (n: { server: RedisServer }) =>
      /cmdstat_dump:calls=(\d+)/.exec(String(await (await n.server.client()).info('commandstats')))?.[1] ??
      '0';
    for (const r of cluster.replicas) assert.notEqual(await dumps(r), '0');
    for (const p of cluster.primaries) assert.equal(await dumps(p), '0');
    await flushSide(target);
  });

  test('a named replica is read for its shard only; a node that is no replica is refused', async () => {
    const source = parseEndpointUrl(cluster.url);
    const named = address(cluster.replicas[1]!);
    const shards = await listSourceShards(source, { readFromReplica: named });
    assert.deepEqual(
      shards.filter((s) => s.readFrom !== s.primary).map((s) => s.readFrom),
      [named],
    );
    await assert.rejects(
      listSourceShards(source, { readFromReplica: address(cluster.primaries[0]!) }),
      /is not a replica of any primary/,
    );
  });

  test('copyShard re-checks its replica: one that does not replicate the shard primary is refused', async () => {
    const source = parseEndpointUrl(`${cluster.url}/0`);
    const [shard] = await listSourceShards(source);
    const other = cluster.replicas.find((r) => r.primaryId !== shard!.id)!;
    await assert.rejects(
      copyShard({
        source,
        target: parseEndpointUrl(`${target.url}/0`),
        shard: { ...shard!, readFrom: address(other) },
        mapping: { dbs: [0] },
        replace: true,
        logger,
      }),
      /cannot be read from now: it replicates .*Nothing was copied/,
    );
    assert.equal(await (await target.client()).dbsize(), 0);
  });

  test('a source primary that became a replica during the copy ends its shard incomplete, saying so', async () => {
    const source = parseEndpointUrl(`${cluster.url}/0`);
    const shards = await listSourceShards(source);
    const shard = shards[0]!;
    const replica = cluster.replicas.find((r) => r.primaryId === shard.id)!;
    let failedOver = false;
    const report = await copyShard({
      source,
      target: parseEndpointUrl(`${target.url}/0`),
      shard,
      mapping: { dbs: [0] },
      replace: true,
      logger,
      batchSize: 10,
      onProgress: async () => {
        if (failedOver) return;
        failedOver = true;
        await (await replica.server.client()).call('CLUSTER', 'FAILOVER');
        const old = await cluster.primaries[0]!.server.client();
        for (let i = 0; i < 100 && !/role:slave/.test(await old.info('replication')); i++) {
          await new Promise((r) => setTimeout(r, 100));
        }
      },
    });
    assert.equal(report.complete, false);
    assert.match(report.incompleteReason ?? '', /replica/);
  });
});

describe('copyShard between versions', () => {
  test('a newer source: payloads the cluster target rejects are copied by type', async (t) => {
    const why = await serverUnavailable('redis-8.0');
    if (why) return t.skip(why);
    const [source, cluster] = await Promise.all([
      startRedis({ server: 'redis-8.0' }),
      startCluster({ primaries: 2 }),
    ]);
    try {
      await fill(await source.client(), 'v:', 60);
      const s = parseEndpointUrl(`${source.url}/0`);
      const [report] = await copyAll(s, parseEndpointUrl(`${cluster.url}/0`), {
        bigKeyThresholdBytes: 16 * 1024,
      });
      assert.deepEqual([report!.complete, report!.failed], [true, []]);
      assert.ok(report!.byType > 0, 'the by-type fallback copied keys');
      assert.deepEqual(await compareSides(source, cluster), []);
    } finally {
      await Promise.all([source.stop(), cluster.stop()]);
    }
  });

  test('hash field TTLs onto a cluster: in the payload, and with HPEXPIREAT for a hash in chunks', async (t) => {
    const why = await serverUnavailable('redis-8.0');
    if (why) return t.skip(why);
    const [source, cluster] = await Promise.all([
      startRedis({ server: 'redis-8.0' }),
      startCluster({ primaries: 2, server: 'redis-8.0' }),
    ]);
    try {
      const c = await source.client();
      const fields: string[] = [];
      for (let i = 0; i < 400; i++) fields.push(`f${i}`, 'x'.repeat(100));
      for (const key of ['ft:small', 'ft:big']) {
        await c.hset(key, ...(key === 'ft:big' ? fields : ['a', '1', 'b', '2']));
        await c.call('HPEXPIRE', key, '600000', 'FIELDS', '1', key === 'ft:big' ? 'f7' : 'a');
      }
      const s = parseEndpointUrl(`${source.url}/0`);
      const [report] = await copyAll(s, parseEndpointUrl(`${cluster.url}/0`), {
        bigKeyThresholdBytes: 8 * 1024,
      });
      assert.deepEqual([report!.complete, report!.failed], [true, []]);
      assert.equal(report!.bigKeys, 1);
      const target = await cluster.client();
      for (const [key, field, persistent] of [
        ['ft:small', 'a', 'b'],
        ['ft:big', 'f7', 'f8'],
      ] as const) {
        const [ttl] = (await target.call('HPTTL', key, 'FIELDS', '1', field)) as number[];
        assert.ok(ttl! > 500_000 && ttl! <= 600_000, `${key} ${field} keeps its TTL (${ttl})`);
        const [none] = (await target.call('HPTTL', key, 'FIELDS', '1', persistent)) as number[];
        assert.equal(none, -1);
      }
      assert.equal(await target.hlen('ft:big'), 400);
    } finally {
      await Promise.all([source.stop(), cluster.stop()]);
    }
  });
});
