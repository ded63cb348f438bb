import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Redis } from 'ioredis';
import { copyKeys } from '../../src/engine/copy/index.js';
import { verify } from '../../src/engine/verify/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { startRedis } from '../harness/redis-server.js';

/** Calls of commands that read a key's expiry (PTTL, PEXPIRETIME). */
async function expiryReads(c: Redis): Promise<number> {
  const info = await c.info('commandstats');
  let calls = 0;
  for (const m of info.matchAll(/^cmdstat_(pttl|pexpiretime):calls=(\d+)/gm)) calls += Number(m[2]);
  return calls;
}

const keyOf = (i: number) => Buffer.from([0xfe, 0, i & 0xff, i >> 8]);

async function fill(c: Redis, n: number): Promise<void> {
  const p = c.pipeline();
  for (let i = 0; i < n; i++) {
    if (i % 2) p.set(keyOf(i), `v${i}`);
    else p.sadd(keyOf(i), 'a', Buffer.from([i & 0xff, 0xff]));
  }
  await p.exec();
}

async function copied(n: number) {
  const source = await startRedis();
  const target = await startRedis();
  await fill(await source.client(), n);
  await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
    dbs: 'all',
    onNonEmptyTarget: 'refuse',
  });
  return { source, target };
}

test('databases without TTLs on both sides are verified without reading any expiry', async () => {
  const { source, target } = await copied(500);
  try {
    const [sc, tc] = [await source.client(), await target.client()];
    await Promise.all([sc.config('RESETSTAT'), tc.config('RESETSTAT')]);
    const report = await verify(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
      dbs: 'all',
      batchSize: 100,
    });
    assert.equal(report.identical, true);
    assert.equal(report.keysChecked, 500);
    // One each: the PEXPIRETIME that tells which clock TTLs are compared on (expiry.ts).
    assert.equal(await expiryReads(sc), 1);
    assert.equal(await expiryReads(tc), 1);
  } finally {
    await source.stop();
    await target.stop();
  }
});

test('TTLs that appear on the target during the run are still told apart: later pages read expiries', async () => {
  const { source, target } = await copied(600);
  try {
    const tc = await target.client();
    const writer = await target.client();
    let fired = false;
    const report = await verify(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
      dbs: 'all',
      batchSize: 20,
      recheckDelayMs: 10,
      // At the first page done, every target key gets a TTL the source does not have.
      onProgress: () => {
        if (fired) return;
        fired = true;
        const p = writer.pipeline();
        for (let i = 0; i < 600; i++) p.pexpire(keyOf(i), 3_600_000);
        void p.exec();
      },
    });
    assert.ok(fired);
    assert.equal(report.identical, false);
    assert.ok(report.differences.persistence.count > 0, JSON.stringify(report.differences));
    assert.ok((await expiryReads(tc)) > 0);
  } finally {
    await source.stop();
    await target.stop();
  }
});
