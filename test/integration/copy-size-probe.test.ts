// Copies with the per-key size probe off (a source with a maxmemory far above its use): DUMP
// replies are read under a byte cap, payloads over it are drained and DUMPed again with their real
// size, and keys over the big-key threshold still go to the chunked path.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { copyKeys } from '../../src/engine/copy/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { compareServers } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { ALL_BYTES } from './copy-fixtures.js';

async function commandCalls(s: RedisServer, command: string): Promise<number> {
  const stats = await (await s.client()).info('commandstats');
  const name = command.replace('|', '\\|');
  return Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
}

const KiB = 1024;
const SMALL_KEYS = 40;
/** ~50 KiB each, of several types. */
const MEDIUM_KEYS = 6;
/** Over the 200 KiB threshold used below: a string and a hash. */
const BIG_KEYS = 2;
const DB2_KEYS = 5;
const TOTAL = SMALL_KEYS + MEDIUM_KEYS + BIG_KEYS + DB2_KEYS;

describe('copy with the size probe off: capped DUMP replies', () => {
  let source: RedisServer;
  before(async () => {
    source = await startRedis({ configLines: ['maxmemory 1gb'] });
    const c = await source.client();
    // Random bytes: DUMP payloads are about as long as the values (LZF gains nothing).
    for (let i = 0; i < SMALL_KEYS; i++) {
      const key = i % 4 === 0 ? Buffer.concat([ALL_BYTES, Buffer.from(`:${i}`)]) : `small:${i}`;
      const value = randomBytes(2 * KiB + ((i * 97) % (3 * KiB)));
      if (i % 3 === 0) await c.set(key, value, 'PX', 400_000 + i);
      else await c.set(key, value);
    }
    await c.set('medium:string:1', randomBytes(50 * KiB));
    await c.set('medium:string:2', randomBytes(48 * KiB), 'PX', 300_000);
    const fields: Buffer[] = [];
    for (let i = 0; i < 100; i++) fields.push(Buffer.from(`f${i}`), randomBytes(500));
    await c.hset('medium:hash', ...fields);
    await c.pexpire('medium:hash', 350_000);
    await c.rpush('medium:list', ...Array.from({ length: 100 }, () => randomBytes(500)));
    const z: (number | Buffer)[] = [];
    for (let i = 0; i < 100; i++) z.push(i / 3, randomBytes(500));
    await c.zadd('medium:zset', ...z);
    await c.sadd('medium:set', ...Array.from({ length: 100 }, () => randomBytes(500)));
    await c.set('big:string', randomBytes(300 * KiB), 'PX', 500_000);
    const bigFields: Buffer[] = [];
    for (let i = 0; i < 600; i++) bigFields.push(Buffer.from(`f${i}`), randomBytes(500));
    await c.hset('big:hash', ...bigFields);
    await c.select(2);
    for (let i = 0; i < DB2_KEYS; i++) await c.set(`db2:${i}`, randomBytes(20 * KiB));
  });
  after(async () => {
    await source.stop();
  });

  test('a small in-flight budget: over-cap payloads are DUMPed again, big keys chunked, target equals source', async () => {
    const target = await startRedis();
    try {
      const dumpsBefore = await commandCalls(source, 'dump');
      const probesBefore = await commandCalls(source, 'memory|usage');
      const report = await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
        dbs: 'all',
        onNonEmptyTarget: 'refuse',
        maxInFlightBytes: 64 * KiB,
        bigKeyThresholdBytes: 200 * KiB,
        batchSize: 10,
      });
      assert.equal(report.sizeProbe?.perKey, false, report.sizeProbe?.reason);
      assert.equal(report.keysFailed, 0, JSON.stringify(report.errors));
      assert.equal(report.keysSkipped, 0);
      assert.equal(report.bigKeysChunked, BIG_KEYS);
      assert.equal(report.keysCopied, TOTAL);
      assert.deepEqual(report.dbs, [0, 2]);
      assert.equal(report.complete, true);
      assert.deepEqual(await compareServers(source, target), []);
      // Never measured; some payloads went over the cap and were DUMPed a second time.
      assert.equal((await commandCalls(source, 'memory|usage')) - probesBefore, 0);
      const dumps = (await commandCalls(source, 'dump')) - dumpsBefore;
      assert.ok(dumps > TOTAL, `${dumps} DUMPs for ${TOTAL} keys: nothing was drained and DUMPed again`);
      // The big ones were written in chunks under a temporary name, then renamed.
      assert.equal(await commandCalls(target, 'rename'), BIG_KEYS);
      const ttl = await (await target.client()).pttl('big:string');
      assert.ok(ttl > 400_000 && ttl <= 500_000, `ttl ${ttl}`);
    } finally {
      await target.stop();
    }
  });

  test("sizeProbe 'always' measures every key even with room to spare", async () => {
    const target = await startRedis();
    try {
      const probesBefore = await commandCalls(source, 'memory|usage');
      const report = await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
        dbs: 'all',
        onNonEmptyTarget: 'refuse',
        bigKeyThresholdBytes: 200 * KiB,
        sizeProbe: 'always',
      });
      assert.equal(report.sizeProbe?.perKey, true);
      assert.ok((await commandCalls(source, 'memory|usage')) - probesBefore >= TOTAL);
      assert.equal(report.keysFailed, 0);
      assert.equal(report.bigKeysChunked, BIG_KEYS);
      assert.equal(report.keysCopied, TOTAL);
      assert.deepEqual(await compareServers(source, target), []);
    } finally {
      await target.stop();
    }
  });

  test('mode by-type still finds and chunks big keys when the source has room to spare', async () => {
    const target = await startRedis();
    try {
      const report = await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
        dbs: 'all',
        onNonEmptyTarget: 'refuse',
        mode: 'by-type',
        bigKeyThresholdBytes: 200 * KiB,
      });
      assert.equal(report.keysFailed, 0);
      assert.equal(report.keysCopied, TOTAL);
      assert.deepEqual(await compareServers(source, target), []);
      // batch.ts: "By-type reads are not capped, so that mode always measures first."
      assert.equal(report.bigKeysChunked, BIG_KEYS);
    } finally {
      await target.stop();
    }
  });
});
