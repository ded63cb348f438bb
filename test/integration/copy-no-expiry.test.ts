import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Redis } from 'ioredis';
import { copyKeys } from '../../src/engine/copy/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { compareServers } from '../harness/compare.js';
import { startRedis } from '../harness/redis-server.js';

async function pttlCalls(c: Redis): Promise<number> {
  const info = await c.info('commandstats');
  return Number(/^cmdstat_pttl:calls=(\d+)/m.exec(info)?.[1] ?? 0);
}

async function fill(c: Redis, db: number, n: number, ttl: (i: number) => number | undefined): Promise<void> {
  await c.select(db);
  const p = c.pipeline();
  for (let i = 0; i < n; i++) {
    const key = Buffer.from([0, 0xff, i & 0xff, i >> 8]);
    if (i % 3 === 0) p.set(key, `v${i}`);
    else if (i % 3 === 1) p.hset(key, 'f', Buffer.from([i & 0xff, 0, 0xfe]));
    else p.rpush(key, 'a', 'b', String(i));
    const ms = ttl(i);
    if (ms !== undefined) p.pexpire(key, ms);
  }
  await p.exec();
}

test('a database without TTLs is copied with DUMP alone; one with TTLs keeps its PTTLs', async () => {
  const source = await startRedis();
  const target = await startRedis();
  try {
    const c = await source.client();
    await fill(c, 0, 400, () => undefined);
    await fill(c, 1, 300, (i) => (i % 2 ? 3_600_000 + i : undefined));
    await c.config('RESETSTAT');
    const report = await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
      dbs: 'all',
      onNonEmptyTarget: 'refuse',
      batchSize: 50,
    });
    assert.equal(report.keysCopied, 700);
    // Only database 1 asked PTTL, once per key (read before the comparison asks its own).
    assert.equal(await pttlCalls(c), 300);
    assert.deepEqual(await compareServers(source, target), []);
  } finally {
    await source.stop();
    await target.stop();
  }
});

test('TTLs that appear while a TTL-less database is copied are not lost: its later pages read PTTL', async () => {
  const source = await startRedis();
  const target = await startRedis();
  try {
    const c = await source.client();
    await fill(c, 0, 600, () => undefined);
    const writer = await source.client();
    let fired = false;
    await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
      dbs: 'all',
      onNonEmptyTarget: 'refuse',
      batchSize: 20,
      // At the first payload, every key gets a TTL: the pages read from then on see them.
      transformPayload: (_key, payload) => {
        if (!fired) {
          fired = true;
          const p = writer.pipeline();
          for (let i = 0; i < 600; i++) p.pexpire(Buffer.from([0, 0xff, i & 0xff, i >> 8]), 3_600_000);
          void p.exec();
        }
        return payload;
      },
    });
    assert.ok(fired);
    assert.ok((await pttlCalls(c)) > 0, 'the copy went back to PTTL');
    // Keys dumped after their PEXPIRE have it on the target; none may be persistent there while
    // its page was read after the PEXPIREs (the bracket saw expires > 0 from then on).
    const tc = await target.client();
    let withTtl = 0;
    for (let i = 0; i < 600; i++) {
      if ((await tc.pttl(Buffer.from([0, 0xff, i & 0xff, i >> 8]))) > 0) withTtl++;
    }
    assert.ok(withTtl > 0, 'keys read after the PEXPIREs were restored with their TTL');
  } finally {
    await source.stop();
    await target.stop();
  }
});
