import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copyKeySet, copyKeys } from '../../src/engine/copy/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { startRedis } from '../harness/redis-server.js';

/** Blocks the copier (as a slow network or a busy host would) the first time it is called. */
function stallOnce(ms: number) {
  let stalled = false;
  return (_key: Buffer, payload: Buffer) => {
    if (!stalled) {
      stalled = true;
      const until = Date.now() + ms;
      while (Date.now() < until) {
        // busy wait on purpose: nothing else may run meanwhile
      }
    }
    return payload;
  };
}

for (const mode of ['auto', 'by-type'] as const) {
  test(`mode ${mode}: keys that expire during the copy are skipped and counted, never left without TTL`, async () => {
    const source = await startRedis();
    const target = await startRedis();
    try {
      const c = await source.client();
      const p = c.pipeline();
      for (let i = 0; i < 300; i++) {
        p.set(`keep:${i}`, 'v');
        if (i % 2) p.set(`short:${i}`, 'v', 'PX', 1500 + i);
        else p.hset(`short:${i}`, 'f', 'v').pexpire(`short:${i}`, 1500 + i);
      }
      await p.exec();
      const report = await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
        dbs: 'all',
        onNonEmptyTarget: 'refuse',
        mode,
        batchSize: 5000,
        // No payload passes through the hook in by-type mode: there the TTLs simply run out later.
        ...(mode === 'auto' ? { transformPayload: stallOnce(2500) } : {}),
      });
      if (mode === 'auto') {
        assert.equal(report.keysSkipped, 300);
        assert.equal(report.keysCopied, 300);
      } else {
        assert.equal(report.keysSkipped + report.keysCopied, 600);
      }
      const tc = await target.client();
      for (const key of await tc.keys('short:*')) {
        const ttl = await tc.pttl(key);
        assert.ok(ttl > 0, `${key} has pttl ${ttl} on the target`);
      }
      await new Promise((r) => setTimeout(r, 2200));
      assert.equal(await tc.dbsize(), 300);
      assert.equal((await tc.keys('short:*')).length, 0);
    } finally {
      await source.stop();
      await target.stop();
    }
  });
}

test('a key restored late keeps the time it has left, never more, never persistent', async () => {
  const source = await startRedis();
  const target = await startRedis();
  try {
    const c = await source.client();
    for (let i = 0; i < 50; i++) await c.set(`k:${i}`, 'v', 'PX', 8000);
    await c.set('persistent', 'v');
    await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
      dbs: 'all',
      onNonEmptyTarget: 'refuse',
      transformPayload: stallOnce(1000),
    });
    const tc = await target.client();
    for (let i = 0; i < 50; i++) {
      // Target read first: its expiry may only be later than the source's by the time the
      // RESTORE waited in the target's queue (relative TTLs need no clock agreement).
      const before = performance.now();
      const t = await tc.pttl(`k:${i}`);
      const s = await c.pttl(`k:${i}`);
      const between = performance.now() - before;
      assert.ok(t > 0 && t <= s + between + 100, `source ${s} target ${t} (${between} ms apart)`);
      assert.ok(t > 5000, `target ttl ${t} lost more than the stall`);
    }
    assert.equal(await tc.pttl('persistent'), -1);
  } finally {
    await source.stop();
    await target.stop();
  }
});

test('copyKeySet copies the given keys, carries TTLs and deletes keys the source no longer has', async () => {
  const source = await startRedis();
  const target = await startRedis();
  try {
    const c = await source.client();
    await c.select(2);
    await c.set('a', '1', 'PX', 60_000);
    await c.hset(Buffer.from([0xff, 0x00]), 'f', Buffer.from([0xc3, 0x28]));
    await c.set('not-asked', 'x');
    const tc = await target.client();
    await tc.select(2);
    await tc.set('gone', 'stale');
    await tc.set('a', 'old');
    const counters = await copyKeySet(parseEndpointUrl(source.url), parseEndpointUrl(target.url), 2, [
      Buffer.from('a'),
      Buffer.from([0xff, 0x00]),
      Buffer.from('gone'),
    ]);
    assert.equal(counters.keysCopied, 2);
    assert.equal(counters.keysDeleted, 1);
    assert.equal(counters.keysSkipped, 1);
    assert.equal(await tc.get('a'), '1');
    const ttl = await tc.pttl('a');
    assert.ok(ttl > 55_000 && ttl <= 60_000);
    assert.deepEqual(await tc.hgetBuffer(Buffer.from([0xff, 0x00]), 'f'), Buffer.from([0xc3, 0x28]));
    assert.equal(await tc.exists('gone'), 0);
    assert.equal(await tc.exists('not-asked'), 0);
  } finally {
    await source.stop();
    await target.stop();
  }
});
