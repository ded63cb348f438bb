// verify() against real servers: each difference class it reports, and the things it must not
// report (hash-seed ordering of DUMP payloads, keys expiring meanwhile, TTLs within tolerance).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { type VerifyOptions, type VerifyReport, verify } from '../../src/engine/verify/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

let source: RedisServer;
let target: RedisServer;
let src: Redis;
let tgt: Redis;

before(async () => {
  [source, target] = await Promise.all([startRedis(), startRedis()]);
  src = await source.client();
  tgt = await target.client();
});

after(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
});

beforeEach(async () => {
  await Promise.all([src.flushall(), tgt.flushall()]);
});

function run(options: Partial<VerifyOptions> = {}): Promise<VerifyReport> {
  return verify(parseEndpointUrl(source.url, 'source'), parseEndpointUrl(target.url, 'target'), {
    dbs: 'all',
    recheckDelayMs: 10,
    ...options,
  });
}

/** Copies every key of `db` like a DUMP/RESTORE migration does (TTL carried, REPLACE). */
async function restoreCopy(db = 0): Promise<void> {
  const from = await source.client(db);
  const to = await target.client(db);
  let cursor = '0';
  do {
    const [next, keys] = await from.scanBuffer(cursor, 'COUNT', 500);
    cursor = String(next);
    for (const key of keys) {
      const payload = await from.dumpBuffer(key);
      const pttl = await from.pttl(key);
      if (!payload || pttl === -2) continue;
      await to.restore(key, Math.max(pttl, 0), payload, 'REPLACE');
    }
  } while (cursor !== '0');
}

/** One key of every type, small and big encodings, some with TTLs. */
async function fillEveryType(c: Redis, prefix = ''): Promise<void> {
  const p = (name: string) => `${prefix}${name}`;
  await c.set(p('str'), 'hello');
  await c.set(p('int'), '12345');
  await c.set(p('empty'), '');
  await c.set(p('long'), 'x'.repeat(5000), 'PX', 3_600_000);
  await c.hset(p('hash:small'), 'a', '1', 'b', '2');
  await c.hset(
    p('hash:big'),
    Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`field-${i}`, `value-${i}`])),
  );
  await c.rpush(p('list:small'), 'a', 'b', 'c');
  await c.rpush(p('list:big'), ...Array.from({ length: 300 }, (_, i) => `item-${i}`));
  await c.sadd(p('set:small'), ...Array.from({ length: 10 }, (_, i) => `member-${i}`));
  await c.sadd(p('set:ints'), 1, 2, 3, 40000);
  await c.sadd(p('set:big'), ...Array.from({ length: 700 }, (_, i) => `m${i}`));
  await c.zadd(p('zset:small'), 1, 'a', 0.1, 'b', '-inf', 'c', '+inf', 'd');
  await c.zadd(p('zset:big'), ...Array.from({ length: 200 }, (_, i) => [i / 3, `z${i}`]).flat());
  await c.expire(p('zset:big'), 7200);
  await c.xadd(p('stream'), '1-1', 'f', 'v1');
  await c.xadd(p('stream'), '1-2', 'f', 'v2');
  await c.xadd(p('stream'), '2-0', 'f', 'v3', 'g', 'w');
  await c.xgroup('CREATE', p('stream'), 'readers', '0');
  await c.xreadgroup('GROUP', 'readers', 'alice', 'COUNT', 2, 'STREAMS', p('stream'), '>');
  await c.xgroup('CREATE', p('stream'), 'idle', '$');
}

function counts(r: VerifyReport): Record<string, number> {
  return Object.fromEntries(Object.entries(r.differences).map(([cls, d]) => [cls, d.count]));
}

const NONE = { missing: 0, extra: 0, type: 0, value: 0, ttl: 0, persistence: 0, 'field-ttl': 0 };

describe('verify: identical data', () => {
  it('reports no difference for a RESTORE copy although set payloads differ by hash seed', async () => {
    await fillEveryType(src);
    await restoreCopy();
    // The premise: the same set dumps differently on the two servers.
    const [a, b] = await Promise.all([src.dumpBuffer('set:small'), tgt.dumpBuffer('set:small')]);
    assert.notDeepEqual(a, b, 'expected the hash-table set to serialize in a different order');

    const r = await run();
    assert.deepEqual(counts(r), NONE);
    assert.equal(r.identical, true);
    assert.equal(r.keysChecked, 14);
    assert.equal(r.sampled, false);
    assert.equal(r.comparedBy, 'mixed');
    assert.ok(r.comparisons.byType > 0, 'payload mismatches were settled type-aware');
    assert.ok(r.comparisons.byPayload > 0);
    assert.deepEqual(r.rdbVersions, { source: 10, target: 10 });
    assert.deepEqual(r.dbs, [{ db: 0, sourceKeys: 14, targetKeys: 14, sourceExpires: 2, targetExpires: 2 }]);
    assert.equal(r.recheck.candidates, 0);
  });

  it('reports identical for two empty servers', async () => {
    const r = await run();
    assert.equal(r.identical, true);
    assert.equal(r.keysChecked, 0);
    assert.deepEqual(r.dbs, []);
  });

  it('handles binary keys and values', async () => {
    const keys = [Buffer.from([0, 1, 2, 0xff]), Buffer.from('tab\there\r\n'), Buffer.from([0xc3, 0x28])];
    for (const k of keys) {
      await src.set(k, Buffer.from([0xfe, 0, 0x0a]));
      await src.sadd(Buffer.concat([k, Buffer.from(':set')]), Buffer.from([0xff]), Buffer.from([0]), 'x');
    }
    await restoreCopy();
    assert.equal((await run()).identical, true);

    await tgt.del(keys[0]!);
    await tgt.srem(Buffer.concat([keys[2]!, Buffer.from(':set')]), Buffer.from([0xff]));
    const r = await run({ recheckRounds: 0 });
    assert.equal(r.differences.missing.count, 1);
    assert.equal(r.differences.missing.samples[0]!.key, '\\x00\\x01\\x02\\xff');
    assert.equal(r.differences.value.count, 1);
    assert.equal(r.differences.value.samples[0]!.key, '\\xc3(:set');
    assert.match(r.differences.value.samples[0]!.detail, /3 vs 2 members; '\\xff' only on the source/);
  });

  it('ignores TTL differences within the tolerance', async () => {
    await src.set('k', 'v', 'PX', 600_000);
    await tgt.set('k', 'v', 'PX', 600_400);
    assert.equal((await run()).identical, true);
    const strict = await run({ ttlToleranceMs: 100, recheckRounds: 0 });
    assert.equal(strict.differences.ttl.count, 1);
  });

  it('ignores stream idle times, which change with every read', async () => {
    await fillEveryType(src);
    await restoreCopy();
    const [entry] = (await tgt.xpending('stream', 'readers', '-', '+', 1)) as [
      string,
      string,
      number,
      number,
    ][];
    await tgt.xclaim('stream', 'readers', 'alice', 0, entry![0], 'IDLE', 999_999, 'JUSTID');
    const [a, b] = await Promise.all([src.dumpBuffer('stream'), tgt.dumpBuffer('stream')]);
    assert.notDeepEqual(a, b);
    assert.equal((await run()).identical, true);
  });
});

describe('verify: each difference class', () => {
  it('finds missing, extra, type, ttl and persistence differences', async () => {
    await fillEveryType(src);
    await src.set('ttl', 'v', 'PX', 3_600_000);
    await src.set('persist', 'v', 'PX', 3_600_000);
    await src.set('expiring-on-target', 'v');
    await restoreCopy();
    await tgt.del('hash:small');
    await tgt.set('only-on-target', 'x');
    await tgt.del('list:small');
    await tgt.sadd('list:small', 'a');
    await tgt.pexpire('ttl', 1_800_000);
    await tgt.persist('persist');
    await tgt.pexpire('expiring-on-target', 3_600_000);

    const r = await run({ recheckRounds: 1 });
    assert.deepEqual(counts(r), {
      missing: 1,
      extra: 1,
      type: 1,
      value: 0,
      ttl: 1,
      persistence: 2,
      'field-ttl': 0,
    });
    assert.equal(r.identical, false);
    assert.equal(r.differentKeys, 6);
    const sample = (cls: keyof VerifyReport['differences']) => r.differences[cls].samples[0]!;
    assert.deepEqual(sample('missing'), { db: 0, key: 'hash:small', detail: 'not on the target (hash)' });
    assert.equal(sample('extra').key, 'only-on-target');
    assert.match(sample('extra').detail, /only on the target \(string\)/);
    assert.deepEqual(sample('type'), {
      db: 0,
      key: 'list:small',
      detail: 'list on the source, set on the target',
    });
    assert.equal(sample('ttl').key, 'ttl');
    assert.match(
      sample('ttl').detail,
      /^TTL 3\d{3}\.\d s vs 1\d{3}\.\d s: expires at least 1\d{3}\.\d s earlier on the target \(tolerance 500 ms\)$/,
    );
    const persistence = r.differences.persistence.samples.map((s) => `${s.key}: ${s.detail}`).sort();
    assert.match(persistence[0]!, /^expiring-on-target: persistent on the source, expires in/);
    assert.match(persistence[1]!, /^persist: expires in .* on the source, persistent on the target$/);
    assert.equal(r.recheck.rounds, 1);
  });

  it('finds same-type value changes in every type', async () => {
    await fillEveryType(src);
    await restoreCopy();
    await tgt.set('str', 'hellO');
    await tgt.hset('hash:small', 'b', '3');
    await tgt.hset('hash:big', 'field-7', 'changed');
    await tgt.lset('list:small', 1, 'B');
    await tgt.lset('list:big', 299, 'last');
    await tgt.srem('set:small', 'member-3');
    await tgt.sadd('set:small', 'member-x');
    await tgt.sadd('set:big', 'one-more');
    await tgt.zadd('zset:small', 2, 'a');
    await tgt.zadd('zset:big', 100, 'z5');
    await tgt.xadd('stream', '3-0', 'f', 'v4');

    const r = await run({ recheckRounds: 0 });
    assert.deepEqual(counts(r), { ...NONE, value: 10 });
    const byKey = new Map(r.differences.value.samples.map((s) => [s.key, s.detail]));
    assert.equal(byKey.get('str'), 'string of 5 bytes differs from byte 4');
    assert.equal(byKey.get('hash:small'), "hash field 'b' differs");
    assert.equal(byKey.get('hash:big'), "hash field 'field-7' differs");
    assert.equal(byKey.get('list:small'), 'list element 1 differs (3 vs 3 elements)');
    assert.equal(byKey.get('list:big'), 'list element 299 differs (300 vs 300 elements)');
    assert.match(byKey.get('set:small')!, /set of 10 vs 10 members; 'member-3' only on the source/);
    assert.match(byKey.get('set:big')!, /set of 700 vs 701 members; 'one-more' only on the target/);
    assert.equal(byKey.get('zset:small'), "zset member 'a' has score 1 vs 2");
    assert.match(byKey.get('zset:big')!, /zset member 'z5' has score 1.666\d+ vs 100/);
    assert.equal(byKey.get('stream'), 'stream of 3 vs 4 entries');
  });

  it('finds consumer-group differences in streams', async () => {
    await fillEveryType(src);
    await restoreCopy();
    await tgt.xack('stream', 'readers', '1-1');
    await tgt.xgroup('SETID', 'stream', 'idle', '1-2');
    const r = await run({ recheckRounds: 0 });
    assert.equal(r.differences.value.count, 1);
    assert.equal(
      r.differences.value.samples[0]!.detail,
      "consumer group 'idle': last-delivered-id 2-0 vs 1-2",
    );

    await tgt.xgroup('SETID', 'stream', 'idle', '$');
    const pel = await run({ recheckRounds: 0 });
    assert.equal(
      pel.differences.value.samples[0]!.detail,
      "consumer group 'readers': 2 vs 1 pending entries",
    );

    // Same PEL size, different owner.
    await restoreCopy();
    await tgt.xclaim('stream', 'readers', 'bob', 0, '1-2', 'JUSTID');
    const owner = await run({ recheckRounds: 0 });
    assert.match(
      owner.differences.value.samples[0]!.detail,
      /consumer group 'readers': consumer 'bob' only on the target/,
    );
  });

  it('caps the samples per class', async () => {
    await src.mset(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`k${i}`, 'v'])));
    const r = await run({ recheckRounds: 0, maxSamplesPerClass: 3 });
    assert.equal(r.differences.missing.count, 8);
    assert.equal(r.differences.missing.samples.length, 3);
  });

  it('counts a key once even when several classes apply', async () => {
    await src.set('k', 'a', 'PX', 3_600_000);
    await tgt.set('k', 'b');
    const r = await run({ recheckRounds: 0 });
    assert.equal(r.differences.value.count, 1);
    assert.equal(r.differences.persistence.count, 1);
    assert.equal(r.differentKeys, 1);
  });
});

describe('verify: re-checks', () => {
  it('does not report keys that expire on the source during verification', async () => {
    for (let i = 0; i < 20; i++) await src.set(`short:${i}`, 'v', 'PX', 400);
    await src.set('stays', 'v');
    await tgt.set('stays', 'v');
    // A tolerance below the TTLs, so the keys are candidates at first and cleared by the re-check.
    const r = await run({ recheckDelayMs: 600, ttlToleranceMs: 20 });
    assert.equal(r.identical, true, JSON.stringify(r.differences));
    assert.equal(r.recheck.candidates, 20);
    assert.equal(r.recheck.cleared, 20);
  });

  it('does not report a key missing on one side when it expires within the TTL tolerance', async () => {
    await src.set('leaving', 'v', 'PX', 400);
    await tgt.set('leaving-too', 'v', 'PX', 400);
    const r = await run({ recheckRounds: 0 });
    assert.equal(r.identical, true, JSON.stringify(r.differences));
    const strict = await run({ recheckRounds: 0, ttlToleranceMs: 10 });
    assert.equal(strict.differences.missing.count, 1);
    assert.equal(strict.differences.extra.count, 1);
  });

  it('lets writes in flight converge before reporting', async () => {
    await src.set('late', 'v2');
    await tgt.set('late', 'v1');
    let fixed = false;
    const r = await run({
      recheckRounds: 2,
      onProgress: (p) => {
        if (p.phase === 'recheck' && !fixed) {
          fixed = true;
          void tgt.set('late', 'v2');
        }
      },
    });
    assert.equal(fixed, true);
    assert.equal(r.identical, true);
    assert.deepEqual(r.recheck, { rounds: 1, candidates: 1, cleared: 1, unconfirmed: 0 });
  });

  it('stays quiet about a live sync that is only lagging behind', async () => {
    await src.mset(Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, 'v0'])));
    await restoreCopy();
    // A "live sync": every write to the source reaches the target 50 ms later.
    let writing = true;
    const inFlight: Promise<unknown>[] = [];
    const mirror = (fn: (c: Redis) => Promise<unknown>) => {
      inFlight.push(
        fn(src)
          .then(() => new Promise((r) => setTimeout(r, 50)))
          .then(() => fn(tgt)),
      );
    };
    const writer = (async () => {
      for (let n = 0; writing; n++) {
        const k = `k${(n * 7919) % 3000}`;
        if (n % 10 === 0) mirror((c) => c.del(k));
        else if (n % 10 === 1) mirror((c) => c.set(`new:${n}`, 'x', 'PX', 600_000));
        else mirror((c) => c.set(k, `v${n}`));
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    try {
      const r = await run({
        recheckDelayMs: 200,
        onProgress: (p) => {
          if (p.phase === 'recheck') writing = false;
        },
      });
      writing = false;
      assert.equal(r.identical, true, JSON.stringify(r.differences));
    } finally {
      writing = false;
      await writer;
      await Promise.all(inFlight);
    }
  });

  it('reports past the re-check cap without re-checking, within bounded memory', async () => {
    await src.mset(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v'])));
    const r = await run({ maxRecheckKeys: 10 });
    assert.equal(r.differences.missing.count, 50);
    assert.equal(r.recheck.unconfirmed, 40);
    assert.equal(r.recheck.candidates, 10);
  });
});

describe('verify: scope', () => {
  it('checks several databases and reports the db of each difference', async () => {
    const src3 = await source.client(3);
    const tgt3 = await target.client(3);
    await fillEveryType(src);
    await fillEveryType(src3, 'three:');
    await restoreCopy(0);
    await restoreCopy(3);
    await tgt3.del('three:str');
    await (await target.client(5)).set('stray', 'x');

    const r = await run({ recheckRounds: 0 });
    assert.deepEqual(
      r.dbs.map((d) => [d.db, d.sourceKeys, d.targetKeys]),
      [
        [0, 14, 14],
        [3, 14, 13],
        [5, 0, 1],
      ],
    );
    assert.deepEqual(r.differences.missing.samples, [
      { db: 3, key: 'three:str', detail: 'not on the target (string)' },
    ]);
    assert.deepEqual(r.differences.extra.samples, [{ db: 5, key: 'stray', detail: 'only on the target' }]);

    const only0 = await run({ dbs: [0] });
    assert.equal(only0.identical, true);
    assert.deepEqual(
      only0.dbs.map((d) => d.db),
      [0],
    );
  });

  it('applies --match on both sides', async () => {
    await src.set('user:1', 'a');
    await src.set('user:2', 'b');
    await src.set('other', 'c');
    await tgt.set('user:1', 'a');
    await tgt.set('user:3', 'x');
    const r = await run({ match: 'user:*', recheckRounds: 0 });
    assert.equal(r.differences.missing.count, 1);
    assert.equal(r.differences.missing.samples[0]!.key, 'user:2');
    assert.equal(r.differences.extra.count, 1);
    assert.equal(r.differences.extra.samples[0]!.key, 'user:3');
    assert.equal(r.keysChecked, 3);
  });

  it('--sample checks a random subset and says so', async () => {
    await src.mset(Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, `v${i}`])));
    await restoreCopy();
    const ok = await run({ sample: 100 });
    assert.equal(ok.sampled, true);
    assert.equal(ok.identical, true);
    assert.ok(ok.keysChecked > 50 && ok.keysChecked <= 100, `checked ${ok.keysChecked}`);

    await tgt.flushall();
    const bad = await run({ sample: 100, recheckRounds: 0 });
    assert.equal(bad.identical, false);
    assert.equal(bad.differences.missing.count, bad.keysChecked);

    const matched = await run({ sample: 10, match: 'k1*', recheckRounds: 0 });
    assert.ok(matched.differences.missing.samples.every((s) => s.key.startsWith('k1')));
    assert.ok(matched.keysChecked > 0);
  });
});

describe('verify: type-aware digests (different RDB versions)', () => {
  it('compares every type without DUMP and finds the same differences', async () => {
    await fillEveryType(src);
    await restoreCopy();
    const same = await run({ compareBy: 'digest' });
    assert.equal(same.identical, true, JSON.stringify(same.differences));
    assert.equal(same.comparedBy, 'digest');
    assert.equal(same.comparisons.byPayload, 0);
    assert.equal(same.comparisons.byType, 14);

    await tgt.hset('hash:big', 'field-9', 'x');
    await tgt.zadd('zset:big', 5, 'z1');
    await tgt.xack('stream', 'readers', '1-2');
    const diff = await run({ compareBy: 'digest', recheckRounds: 0 });
    assert.deepEqual(diff.differences.value.samples.map((s) => s.key).sort(), [
      'hash:big',
      'stream',
      'zset:big',
    ]);
  });

  it('digests big values chunk by chunk', async () => {
    await fillEveryType(src);
    await restoreCopy();
    // chunkSize 50 sends every big value (600-field hash, 700-member set...) through the chunked readers.
    const same = await run({ compareBy: 'digest', chunkSize: 50 });
    assert.equal(same.identical, true, JSON.stringify(same.differences));

    await tgt.srem('set:big', 'm1');
    await tgt.sadd('set:big', 'm-new');
    await tgt.hdel('hash:big', 'field-1');
    await tgt.lset('list:big', 120, 'changed');
    await tgt.zadd('zset:big', 0.5, 'z100');
    const diff = await run({ compareBy: 'digest', chunkSize: 50, recheckRounds: 0 });
    const byKey = new Map(diff.differences.value.samples.map((s) => [s.key, s.detail]));
    assert.equal(byKey.get('set:big'), 'set contents differ (700 members each, by digest)');
    assert.equal(byKey.get('hash:big'), 'hash of 600 vs 599 fields (by digest)');
    assert.equal(byKey.get('list:big'), 'list contents differ (300 elements each, by digest)');
    assert.equal(byKey.get('zset:big'), 'zset contents differ (200 members each, by digest)');
    assert.equal(byKey.size, 4);
  });

  it('never dumps keys above the size threshold: compares them chunk by chunk', async () => {
    await fillEveryType(src);
    await src.sadd('set:huge', ...Array.from({ length: 3000 }, (_, i) => `member-${i}`));
    await restoreCopy();
    await Promise.all([src.config('RESETSTAT'), tgt.config('RESETSTAT')]);
    const dumps = async (c: Redis) =>
      Number(/cmdstat_dump:calls=(\d+)/.exec(await c.info('commandstats'))?.[1] ?? 0);

    const same = await run({ bigKeyThresholdBytes: 30_000, chunkSize: 200 });
    assert.equal(same.identical, true, JSON.stringify(same.differences));
    // hash:big, set:big and set:huge use more than 30 kB: 12 of the 15 keys are dumped, on each side.
    const sizes = await Promise.all(
      ['hash:big', 'set:big', 'set:huge', 'zset:big'].map((k) => src.memory('USAGE', k)),
    );
    assert.deepEqual(
      sizes.map((n) => Number(n) > 30_000),
      [true, true, true, false],
    );
    assert.equal(await dumps(src), 12);
    assert.equal(await dumps(tgt), 12);

    await tgt.srem('set:huge', 'member-2999');
    await tgt.sadd('set:huge', 'member-x');
    const diff = await run({ bigKeyThresholdBytes: 30_000, chunkSize: 200, recheckRounds: 0 });
    assert.deepEqual(diff.differences.value.samples, [
      { db: 0, key: 'set:huge', detail: 'set contents differ (3000 members each, by digest)' },
    ]);
  });

  it('reads big strings a megabyte at a time, and tells empty strings from missing keys', async () => {
    const big = Buffer.alloc(2.5 * 1024 * 1024, 'abcdefgh');
    await src.set('big', big);
    await src.set('empty', '');
    await restoreCopy();
    assert.equal((await run({ compareBy: 'digest' })).identical, true);

    big[2_000_000] = 0x5a;
    await tgt.set('big', big);
    const r = await run({ compareBy: 'digest', recheckRounds: 0 });
    assert.deepEqual(r.differences.value.samples, [
      { db: 0, key: 'big', detail: 'string contents differ (2621440 bytes each, by digest)' },
    ]);
    // In dump mode the 2.5 MB string is over a 1 MB threshold: not dumped, read the same way.
    const guarded = await run({ bigKeyThresholdBytes: 1024 * 1024, recheckRounds: 0 });
    assert.equal(
      guarded.differences.value.samples[0]!.detail,
      'string contents differ (2621440 bytes each, by digest)',
    );
  });

  it('reads streams page by page', async () => {
    for (let i = 1; i <= 120; i++) await src.xadd('s', `${i}-0`, 'n', String(i));
    await src.xgroup('CREATE', 's', 'g', '0');
    await src.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 70, 'STREAMS', 's', '>');
    await src.xreadgroup('GROUP', 'g', 'c2', 'COUNT', 30, 'STREAMS', 's', '>');
    await restoreCopy();
    assert.equal((await run({ compareBy: 'digest', chunkSize: 16 })).identical, true);
    await tgt.xclaim('s', 'g', 'c1', 0, '90-0', 'JUSTID');
    const r = await run({ compareBy: 'digest', chunkSize: 16, recheckRounds: 0 });
    assert.equal(
      r.differences.value.samples[0]!.detail,
      "consumer group 'g': pending entries differ (owner or delivery count)",
    );
  });
});

describe('verify: restricted accounts', () => {
  it('compares by type when DUMP and MEMORY are not allowed', async () => {
    await src.call('ACL', 'SETUSER', 'nodump', 'on', '>nodump-pw', '~*', '+@all', '-dump', '-memory');
    try {
      await fillEveryType(src);
      await restoreCopy();
      const endpoint = parseEndpointUrl(source.urlFor('nodump', 'nodump-pw'), 'restricted');
      const r = await verify(endpoint, parseEndpointUrl(target.url, 'target'), {
        dbs: 'all',
        recheckDelayMs: 10,
      });
      assert.equal(r.identical, true, JSON.stringify(r.differences));
      assert.equal(r.comparedBy, 'digest');
      assert.equal(r.comparisons.byType, 14);
      await tgt.lset('list:big', 3, 'x');
      const diff = await verify(endpoint, parseEndpointUrl(target.url, 'target'), {
        dbs: 'all',
        recheckRounds: 0,
      });
      assert.deepEqual(
        diff.differences.value.samples.map((s) => s.key),
        ['list:big'],
      );
    } finally {
      await src.call('ACL', 'DELUSER', 'nodump');
    }
  });
});

describe('verify: errors', () => {
  it('names the endpoint it cannot reach', async () => {
    const down = parseEndpointUrl('redis://127.0.0.1:1', 'down');
    await assert.rejects(
      verify(parseEndpointUrl(source.url, 'source'), down, { dbs: 'all' }),
      /down.*connection refused/,
    );
  });

  it('rejects bad options', async () => {
    await assert.rejects(run({ sample: 0 }), /sample must be an integer >= 1/);
    await assert.rejects(run({ dbs: [] }), /no database to verify/);
  });

  it('stops when aborted', async () => {
    await src.set('a', '1');
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(run({ signal: controller.signal }), { name: 'AbortError' });
  });
});
