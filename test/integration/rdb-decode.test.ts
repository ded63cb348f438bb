// The RDB value decoder and the by-type writer on payloads real servers produce: each encoding is
// forced with the server's config knobs, DUMPed, decoded and written by type onto an older target
// (Redis 7.0, or Redis 8.0 for field TTLs), then both keys are read back with plain ioredis
// (test/harness/compare.ts: HGETALL, ZRANGE WITHSCORES, LRANGE, XRANGE, XINFO, XPENDING) and with
// XINFO STREAM FULL for the exact pending delivery times. Nothing on the reading side shares code
// with the decoder.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { BATCH_ELEMENTS, decodeValue } from '../../src/engine/rdb/decode/index.js';
import type { RdbEntry } from '../../src/engine/rdb/reader.js';
import { RespConnection } from '../../src/engine/resp/connection.js';
import {
  type ByTypeFeatures,
  ByTypeWriter,
  SMALL_COMMANDS,
} from '../../src/engine/restore/by-type-writer.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { compareSnapshots, snapshotKey } from '../harness/compare.js';
import { type RedisServer, type ServerName, serverUnavailable, startRedis } from '../harness/redis-server.js';

interface Case {
  name: string;
  /** CONFIG SET before the key is made (encoding thresholds). */
  config?: Record<string, string>;
  /** The type byte the server's DUMP must have (the encoding under test), per server. */
  types: number[];
  make: (c: Redis, key: string) => Promise<unknown>;
  /** Only on servers whose DUMP has this (e.g. set listpacks: 7.2+). */
  only?: ServerName[];
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** A stream with deleted entries, entries with and without the master's fields, groups, PEL, consumers. */
async function makeStream(c: Redis, key: string, n: number): Promise<void> {
  const p = c.pipeline();
  for (let i = 1; i <= n; i++) {
    if (i % 5 === 0) p.xadd(key, `${1000 + i}-1`, 'other', String(i), 'x', Buffer.from([0, i & 255]));
    else p.xadd(key, `${1000 + i}-1`, 'n', String(i), 'payload', `v${i}`);
  }
  await p.exec();
  await c.xdel(key, '1003-1', '1010-1');
  await c.xgroup('CREATE', key, 'workers', '0');
  await c.xgroup('CREATE', key, 'late', `${1000 + n - 3}-0`);
  await c.xreadgroup('GROUP', 'workers', 'alice', 'COUNT', Math.ceil(n * 0.6), 'STREAMS', key, '>');
  await c.xreadgroup('GROUP', 'workers', 'bob', 'COUNT', 3, 'STREAMS', key, '>');
  await c.call('XGROUP', 'CREATECONSUMER', key, 'workers', 'carol');
  const pending = (await c.xpending(key, 'workers', '-', '+', 2)) as [string][];
  await c.xack(key, 'workers', pending[0]![0]);
  await c.xclaim(key, 'workers', 'bob', 0, pending[1]![0]);
  await c.xreadgroup('GROUP', 'late', 'dave', 'COUNT', 1, 'STREAMS', key, '>');
  await c.xdel(key, `${1000 + n}-1`); // the last id stays, the entry goes: max-deleted-id
}

const CASES: Case[] = [
  { name: 'string, plain', types: [0], make: (c, k) => c.set(k, 'hello') },
  { name: 'string, int encodings', types: [0], make: (c, k) => c.set(k, '-123456789') },
  { name: 'string, int8', types: [0], make: (c, k) => c.set(k, '-7') },
  {
    name: 'string, LZF-compressed, with a TTL',
    types: [0],
    make: async (c, k) => c.set(k, `lzf:${'abc'.repeat(5000)}`, 'PX', 600_000),
  },
  { name: 'string, binary', types: [0], make: (c, k) => c.set(k, Buffer.from(range(256))) },
  {
    name: 'list, quicklist of listpacks, many nodes',
    config: { 'list-max-listpack-size': '4' },
    types: [18],
    make: (c, k) => c.rpush(k, ...range(50).map((i) => `item-${i}`), '', '-5', '70000', '9999999999'),
  },
  {
    name: 'list, LZF-compressed inner nodes (list-compress-depth)',
    config: { 'list-max-listpack-size': '8', 'list-compress-depth': '1' },
    types: [18],
    make: (c, k) => c.rpush(k, ...range(200).map((i) => `compressible-item-${i % 4}-${'z'.repeat(30)}`)),
  },
  {
    name: 'list, one listpack with integers of every width',
    types: [18],
    make: (c, k) =>
      c.rpush(
        k,
        '1',
        '127',
        '-100',
        '4000',
        '-4000',
        '30000',
        '-8000000',
        '2000000000',
        '-9000000000000',
        'x',
      ),
  },
  {
    name: 'list, plain nodes',
    types: [18],
    make: async (c, k) => {
      await c.call('DEBUG', 'QUICKLIST-PACKED-THRESHOLD', '100');
      await c.rpush(k, 'x'.repeat(500), 'small', 'y'.repeat(300));
      await c.call('DEBUG', 'QUICKLIST-PACKED-THRESHOLD', String(2 ** 30));
    },
  },
  {
    name: 'list, big (streams in batches, over the transaction size)',
    types: [18],
    make: async (c, k) => {
      for (let i = 0; i < 80; i++) await c.rpush(k, ...range(1024).map((j) => `e${i}.${j}`));
      await c.pexpire(k, 500_000); // set last, after the value streamed
    },
  },
  { name: 'set, intset 16-bit', types: [11], make: (c, k) => c.sadd(k, 1, 2, -3, 30000) },
  { name: 'set, intset 64-bit', types: [11], make: (c, k) => c.sadd(k, 1, -9000000000000, 2 ** 40) },
  {
    name: 'set, listpack',
    types: [20],
    only: ['redis-8.0', 'valkey-8.1'],
    make: (c, k) => c.sadd(k, 'a', 'b', '12', Buffer.from([0, 255])),
  },
  {
    name: 'set, hash table, big',
    config: { 'set-max-intset-entries': '0' },
    types: [2],
    make: (c, k) => c.sadd(k, ...range(3000).map((i) => `m${i}`)),
  },
  {
    name: 'zset, listpack with special scores',
    types: [17],
    make: (c, k) =>
      c.zadd(
        k,
        'inf',
        'top',
        '-inf',
        'bottom',
        0.1,
        'tenth',
        1e-300,
        'tiny',
        -0,
        'zero',
        3,
        'int',
        2.5,
        'half',
      ),
  },
  {
    name: 'zset, skiplist with binary doubles, big',
    config: { 'zset-max-listpack-entries': '0' },
    types: [5],
    make: (c, k) => c.zadd(k, ...range(3000).flatMap((i) => [i / 7, `m${i}`]), 'inf', 'top', 1e300, 'huge'),
  },
  { name: 'hash, listpack', types: [16], make: (c, k) => c.hset(k, 'a', '1', 'b', '-20000', 'c', '') },
  {
    name: 'hash, hash table, big',
    config: { 'hash-max-listpack-entries': '0' },
    types: [4],
    make: (c, k) => c.hset(k, ...range(3000).flatMap((i) => [`f${i}`, `v${i}`]), Buffer.from([0, 1]), '0'),
  },
  {
    name: 'stream, many nodes, groups, PEL and consumers',
    config: { 'stream-node-max-entries': '7' },
    types: [19, 21],
    make: (c, k) => makeStream(c, k, 60),
  },
  {
    name: 'stream, big (entries and PEL over a batch)',
    types: [19, 21],
    make: (c, k) => makeStream(c, k, 2600),
  },
  {
    name: 'stream, all entries deleted, with a group',
    types: [19, 21],
    make: async (c, k) => {
      await c.xadd(k, '5-1', 'f', 'v');
      await c.xdel(k, '5-1');
      await c.xgroup('CREATE', k, 'g', '0');
    },
  },
];

const DEFAULTS = {
  'list-max-listpack-size': '-2',
  'list-compress-depth': '0',
  'set-max-intset-entries': '512',
  'zset-max-listpack-entries': '128',
  'hash-max-listpack-entries': '128',
  'stream-node-max-entries': '100',
};

async function setConfig(c: Redis, config: Record<string, string>): Promise<void> {
  for (const [name, value] of Object.entries(config)) await c.config('SET', name, value);
}

/** The key as the RDB reader would hand it over: DUMP's payload is exactly its RdbEntry payload. */
async function entryOf(c: Redis, key: string): Promise<RdbEntry> {
  const payload = (await c.callBuffer('DUMP', key)) as Buffer;
  const at = Number(await c.call('PEXPIRETIME', key));
  return {
    db: 0,
    key: Buffer.from(key),
    expireAtMs: at > 0 ? at : null,
    type: payload[0]!,
    payload,
    offset: 0,
  };
}

async function writeByType(
  target: RedisServer,
  entries: RdbEntry[],
  features: ByTypeFeatures,
  dropFieldTtls = false,
) {
  const dst = await RespConnection.open(parseEndpointUrl(target.url), { db: 0 });
  try {
    const writer = new ByTypeWriter(dst, { replace: true, features, dropFieldTtls });
    for (const e of entries) await writer.add(e);
    await writer.flush();
    return writer.counters;
  } finally {
    await dst.close();
  }
}

async function sameKey(source: Redis, target: Redis, key: string): Promise<void> {
  const a = await snapshotKey(source, Buffer.from(key));
  const b = await snapshotKey(target, Buffer.from(key));
  assert.ok(a && b, `${key} exists on both (source ${!!a}, target ${!!b})`);
  const id = Buffer.from(key).toString('hex');
  assert.deepEqual(compareSnapshots(new Map([[id, a]]), new Map([[id, b]]), 0), []);
  if (a.type === 'stream') {
    // The pending entries' delivery times are exact (XCLAIM ... TIME), not only close.
    const pel = async (c: Redis) => {
      const full = (await c.call('XINFO', 'STREAM', key, 'FULL', 'COUNT', 0)) as unknown[];
      const groups = full[full.indexOf('groups') + 1] as unknown[][];
      return groups.map((g) => JSON.stringify(g[g.indexOf('pending') + 1]));
    };
    assert.deepEqual(await pel(target), await pel(source));
  }
}

const OLD_TARGET: ByTypeFeatures = { streamCounters: true, createConsumer: true, fieldTtls: false };

let target: RedisServer;
before(async () => {
  target = await startRedis();
});
after(async () => target?.stop());

for (const server of ['redis-7.0', 'redis-8.0', 'valkey-8.1'] as ServerName[]) {
  const missing = await serverUnavailable(server);
  describe(`by type from ${server}'s DUMP payloads onto Redis 7.0`, { skip: missing }, () => {
    let source: RedisServer;
    before(async () => {
      source = await startRedis({ server, configLines: ['enable-debug-command yes'] });
    });
    after(async () => source?.stop());

    for (const [i, c] of CASES.entries()) {
      if (c.only && !c.only.includes(server)) continue;
      test(c.name, async () => {
        const sc = await source.client();
        const key = `case:${i}`;
        await setConfig(sc, { ...DEFAULTS, ...c.config });
        await c.make(sc, key);
        await setConfig(sc, DEFAULTS);
        const entry = await entryOf(sc, key);
        assert.ok(c.types.includes(entry.type), `${server} DUMPs type ${entry.type}, not ${c.types}`);
        let parts = 0;
        for (const part of decodeValue(entry)) {
          parts++;
          if (part.kind !== 'chunk' || part.chunk.type === 'string') continue;
          const size =
            part.chunk.type === 'list'
              ? part.chunk.items.length
              : part.chunk.type === 'set'
                ? part.chunk.members.length
                : part.chunk.type === 'stream'
                  ? part.chunk.entries.length
                  : part.chunk.entries.length / 2;
          assert.ok(size <= BATCH_ELEMENTS, `a batch of ${size}`);
        }
        if (/big/.test(c.name)) assert.ok(parts > 2, `${parts} parts: the value comes in batches`);
        const counters = await writeByType(target, [entry], OLD_TARGET);
        assert.equal(counters.keysFailed, 0, JSON.stringify(counters.errors));
        assert.equal(counters.keysRestored, 1);
        await sameKey(sc, await target.client(), key);
      });
    }
  });
}

describe('hashes with field TTLs (Redis 8.0 payloads)', async () => {
  const missing = await serverUnavailable('redis-8.0');
  let source: RedisServer;
  let newer: RedisServer;
  const made: { key: string; type: number }[] = [];
  before(async () => {
    if (missing) return;
    source = await startRedis({ server: 'redis-8.0' });
    newer = await startRedis({ server: 'redis-8.0' });
    const c = await source.client();
    await c.hset('hfe:lp', 'a', '1', 'b', '2', 'c', '3');
    await c.call('HPEXPIRE', 'hfe:lp', 600_000, 'FIELDS', 2, 'a', 'c');
    await c.pexpire('hfe:lp', 900_000);
    await c.hset('hfe:ht', ...range(2000).flatMap((i) => [`f${i}`, `v${i}`]));
    await c.call('HPEXPIRE', 'hfe:ht', 600_000, 'FIELDS', 3, 'f1', 'f1500', 'f1999');
    await c.call('HPEXPIRE', 'hfe:ht', 700_000, 'FIELDS', 1, 'f2');
    for (const key of ['hfe:lp', 'hfe:ht']) made.push({ key, type: (await entryOf(c, key)).type });
  });
  after(async () => {
    await newer?.stop();
    await source?.stop();
  });

  test('listpack-ex (25) and metadata (24) layouts: HSET + HPEXPIREAT onto a target with field TTLs', {
    skip: missing,
  }, async () => {
    assert.deepEqual(
      made.map((m) => m.type),
      [25, 24],
    );
    const c = await source.client();
    const entries = await Promise.all(made.map((m) => entryOf(c, m.key)));
    const counters = await writeByType(newer, entries, { ...OLD_TARGET, fieldTtls: true });
    assert.equal(counters.keysRestored, 2, JSON.stringify(counters.errors));
    for (const m of made) {
      await sameKey(c, await newer.client(), m.key);
      const fields = m.key === 'hfe:lp' ? ['a', 'b', 'c'] : ['f1', 'f2', 'f3', 'f1500', 'f1999'];
      const at = (s: Redis) => s.call('HPEXPIRETIME', m.key, 'FIELDS', fields.length, ...fields);
      assert.deepEqual(await at(await newer.client()), await at(c), `exact field expiry times of ${m.key}`);
    }
  });

  test('onto Redis 7.0: refused naming the fields, or persistent fields with dropFieldTtls', {
    skip: missing,
  }, async () => {
    const c = await source.client();
    const entries = await Promise.all(made.map((m) => entryOf(c, m.key)));
    const tc = await target.client();
    await tc.del('hfe:lp', 'hfe:ht');
    const refused = await writeByType(target, entries, OLD_TARGET);
    assert.equal(refused.keysFailed, 2);
    assert.match(refused.errors[0]!.reason, /2 fields with a TTL .* --drop-field-ttls/);
    assert.equal(await tc.exists('hfe:lp', 'hfe:ht'), 0, 'nothing written for them');
    const dropped = await writeByType(target, entries, OLD_TARGET, true);
    assert.equal(dropped.keysRestored, 2);
    assert.equal(dropped.fieldTtlsDropped, 6);
    assert.deepEqual(await tc.hgetall('hfe:lp'), await c.hgetall('hfe:lp'));
    assert.equal(await tc.hlen('hfe:ht'), 2000);
    assert.ok(Math.abs((await tc.pttl('hfe:lp')) - (await c.pttl('hfe:lp'))) < 1500, 'the key TTL');
  });
});

test('a corrupt value fails its key only, naming it; the next key is written', async () => {
  const c = await target.client();
  await c.set('good', 'v');
  const good = await entryOf(c, 'good');
  await c.rpush('bad', ...range(20).map(String));
  const bad = await entryOf(c, 'bad');
  bad.payload = Buffer.from(bad.payload);
  bad.payload[bad.payload.length - 11] = 0x00; // the listpack's end byte
  bad.key = Buffer.from('bad-copy');
  good.key = Buffer.from('good-copy');
  const counters = await writeByType(target, [bad, good], OLD_TARGET);
  assert.equal(counters.keysFailed, 1);
  assert.equal(counters.errors[0]!.key, 'bad-copy');
  assert.match(counters.errors[0]!.reason, /cannot decode the value: corrupt value/);
  assert.equal(await c.get('good-copy'), 'v');
  assert.equal(await c.exists('bad-copy'), 0);
  assert.ok(SMALL_COMMANDS > 1);
});

test('a pending entry whose message was deleted is counted as not restored (XCLAIM cannot recreate it)', async () => {
  const c = await target.client();
  await c.xadd('s:gone', '1-1', 'f', 'a');
  await c.xadd('s:gone', '2-1', 'f', 'b');
  await c.xgroup('CREATE', 's:gone', 'g', '0');
  await c.xreadgroup('GROUP', 'g', 'alice', 'COUNT', 2, 'STREAMS', 's:gone', '>');
  await c.xdel('s:gone', '1-1');
  const e = await entryOf(c, 's:gone');
  e.key = Buffer.from('s:gone-copy');
  const counters = await writeByType(target, [e], OLD_TARGET);
  assert.equal(counters.keysRestored, 1);
  assert.equal(counters.pendingNotRestored, 1);
  const pending = (await c.xpending('s:gone-copy', 'g', '-', '+', 10)) as [string, string][];
  assert.deepEqual(
    pending.map((p) => [p[0], p[1]]),
    [['2-1', 'alice']],
  );
});

test('a big value that turns out corrupt part way is deleted again and fails its key', async () => {
  const c = await target.client();
  for (let i = 0; i < 80; i++) await c.rpush('big-bad', ...range(1024).map((j) => `e${i}.${j}`));
  const e = await entryOf(c, 'big-bad');
  e.payload = Buffer.from(e.payload);
  e.payload[e.payload.length - 11] = 0x00; // the last node's listpack end byte
  e.key = Buffer.from('big-bad-copy');
  let parts = 0;
  assert.throws(() => {
    for (const _ of decodeValue(e)) parts++;
  }, /corrupt value/);
  assert.ok(parts > 2, 'batches came out before the bad byte');
  const counters = await writeByType(target, [e], OLD_TARGET);
  assert.equal(counters.keysFailed, 1);
  assert.match(counters.errors[0]!.reason, /cannot decode the value/);
  assert.equal(await c.exists('big-bad-copy'), 0);
});
