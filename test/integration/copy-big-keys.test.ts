import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { copyKeySet, copyKeys } from '../../src/engine/copy/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { compareServers } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { ALL_BYTES, fillStream } from './copy-fixtures.js';

async function commandCalls(s: RedisServer, command: string): Promise<number> {
  const stats = await (await s.client()).info('commandstats');
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
}

describe('copy: big keys in chunks', () => {
  let source: RedisServer;
  before(async () => {
    source = await startRedis();
    const c = await source.client();
    const fields: Buffer[] = [];
    for (let i = 0; i < 500; i++)
      fields.push(Buffer.from(`f${i}`), Buffer.concat([ALL_BYTES.subarray(i % 200), Buffer.from(`${i}`)]));
    await c.hset('big:hash', ...fields);
    await c.pexpire('big:hash', 500_000);
    await c.sadd('big:set', ...Array.from({ length: 500 }, (_, i) => `member-${i}-${'y'.repeat(i % 20)}`));
    const z: (string | number)[] = [];
    for (let i = 0; i < 500; i++) z.push(i % 3 === 0 ? '-inf' : i / 3, `z-${i}`);
    await c.zadd('big:zset', ...z);
    await c.rpush('big:list', ...Array.from({ length: 500 }, (_, i) => `item-${i}-${'z'.repeat(i % 30)}`));
    await c.set('big:string', randomBytes(50_000));
    await fillStream(c, 'big:stream', 300);
    await c.set('small', 'x');
    await c.hset('small:hash', 'a', 'b');
  });
  after(async () => {
    await source.stop();
  });

  for (const mode of ['auto', 'by-type'] as const) {
    test(`mode ${mode}: every big type is copied in several chunks and equals the source`, async () => {
      const target = await startRedis();
      try {
        const report = await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
          dbs: 'all',
          onNonEmptyTarget: 'refuse',
          mode,
          bigKeyThresholdBytes: 2000,
        });
        assert.equal(report.bigKeysChunked, 6);
        assert.equal(report.keysCopied, 8);
        assert.equal(report.keysFailed, 0);
        // No temporary key is left behind, TTLs and stream groups came along.
        assert.deepEqual(await compareServers(source, target), []);
        // Chunked: several writes per key, then one RENAME each.
        assert.ok((await commandCalls(target, 'hset')) >= 5);
        assert.ok((await commandCalls(target, 'rpush')) >= 5);
        assert.equal(await commandCalls(target, 'xadd'), 298); // 300 added, 2 deleted
        assert.ok((await commandCalls(target, 'append')) >= 5);
        assert.equal(await commandCalls(target, 'rename'), 6);
      } finally {
        await target.stop();
      }
    });
  }

  test('copyKeySet chunks big keys too, and replaces what the target had', async () => {
    const target = await startRedis();
    try {
      const tc = await target.client();
      await tc.sadd('big:set', 'stale-member');
      const counters = await copyKeySet(
        parseEndpointUrl(source.url),
        parseEndpointUrl(target.url),
        0,
        [Buffer.from('big:set'), Buffer.from('big:hash')],
        { bigKeyThresholdBytes: 2000 },
      );
      assert.equal(counters.bigKeysChunked, 2);
      assert.equal(await tc.sismember('big:set', 'stale-member'), 0);
      assert.equal(await tc.scard('big:set'), 500);
      const ttl = await tc.pttl('big:hash');
      assert.ok(ttl > 400_000 && ttl <= 500_000, `ttl ${ttl}`);
    } finally {
      await target.stop();
    }
  });

  test("keys above the target's proto-max-bulk-len are chunked whatever the threshold", async () => {
    const target = await startRedis({ configLines: ['proto-max-bulk-len 1mb'] });
    const bigSource = await startRedis();
    try {
      const c = await bigSource.client();
      await c.set('huge:string', randomBytes(3 * 1024 * 1024));
      const fields: Buffer[] = [];
      for (let i = 0; i < 3000; i++) fields.push(Buffer.from(`f${i}`), randomBytes(700));
      await c.hset('huge:hash', ...fields);
      await c.set('small', 'x');
      const report = await copyKeys(parseEndpointUrl(bigSource.url), parseEndpointUrl(target.url), {
        dbs: 'all',
        onNonEmptyTarget: 'refuse',
      });
      assert.equal(report.bigKeysChunked, 1);
      assert.equal(report.keysCopied, 2);
      // A string longer than proto-max-bulk-len cannot exist on that target at all: said plainly.
      assert.equal(report.keysFailed, 1);
      assert.equal(report.errors[0]!.key, 'huge:string');
      assert.match(report.errors[0]!.reason, /longer than the target's proto-max-bulk-len \(1048576\)/);
      await c.del('huge:string');
      assert.deepEqual(await compareServers(bigSource, target), []);
    } finally {
      await target.stop();
      await bigSource.stop();
    }
  });

  test('without MEMORY USAGE on the source, big keys are found by their DUMP size', async () => {
    const restricted = await startRedis({ configLines: ['user copier on >copier-pw ~* +@all -memory'] });
    const target = await startRedis();
    try {
      const c = await restricted.client();
      await c.sadd('big:set', ...Array.from({ length: 500 }, (_, i) => `member-${i}`));
      await c.set('small', 'x');
      const report = await copyKeys(
        parseEndpointUrl(restricted.urlFor('copier', 'copier-pw')),
        parseEndpointUrl(target.url),
        { dbs: 'all', onNonEmptyTarget: 'refuse', bigKeyThresholdBytes: 2000 },
      );
      assert.equal(report.bigKeysChunked, 1);
      assert.equal(report.keysCopied, 2);
      assert.deepEqual(await compareServers(restricted, target), []);
    } finally {
      await restricted.stop();
      await target.stop();
    }
  });
});
