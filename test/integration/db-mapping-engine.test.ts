// The engines under a database remap (source db 3 -> target db 5): MIGRATE sends to the mapped
// destination db, live sync applies changes (writes, deletes, a reconcile pass) there, and no other
// database moves. Data is checked with test/harness/compare.ts (plain ioredis reads).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { LiveSync } from '../../src/engine/live-sync/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { migrateKeys } from '../../src/strategies/migrate/index.js';
import { compareSnapshots, snapshotDb } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

const REMAP = { from: 3, to: 5 };

async function compareDbs(x: Redis, a: number, y: Redis, b: number): Promise<string[]> {
  const [sx, sy] = [await snapshotDb(x, a), await snapshotDb(y, b)];
  return [...compareSnapshots(sx, sy, a), ...compareSnapshots(sy, sx, b)];
}

async function sizes(c: Redis): Promise<Record<number, number>> {
  const info = await c.info('keyspace');
  return Object.fromEntries(
    [...info.matchAll(/^db(\d+):keys=(\d+)/gm)].map((m) => [Number(m[1]), Number(m[2])]),
  );
}

describe('engines under a database remap (db 3 -> db 5)', () => {
  let source: RedisServer;
  let target: RedisServer;
  let src: Redis;
  let tgt: Redis;

  before(async () => {
    [source, target] = await Promise.all([
      startRedis({ configLines: ['notify-keyspace-events KEA'] }),
      startRedis(),
    ]);
    src = await source.client();
    tgt = await target.client();
    await src.select(3);
    const p = src.pipeline();
    for (let i = 0; i < 500; i++) p.set(`k:${i}`, `v${i}`);
    p.hset('h', 'a', '1').zadd('z', 1, 'one').rpush('l', 'x', 'y').pexpire('h', 600_000);
    await p.exec();
    await src.select(0);
    await src.set('db0:key', 'not copied');
    await tgt.select(3);
    await tgt.set('target:db3', 'untouched');
    await tgt.select(0);
  });
  after(async () => {
    await Promise.all([source.stop(), target.stop()]);
  });

  test('MIGRATE sends db 3 to destination db 5 only', async () => {
    const report = await migrateKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
      dbs: [3],
      remap: REMAP,
      onNonEmptyTarget: 'refuse',
    });
    assert.equal(report.complete, true);
    assert.deepEqual(await compareDbs(src, 3, tgt, 5), []);
    assert.deepEqual(await sizes(tgt), { 3: 1, 5: 503 });
    await tgt.select(3);
    assert.equal(await tgt.get('target:db3'), 'untouched');
    await tgt.select(0);
  });

  test('live sync applies db 3 changes to db 5, a reconcile pass included', async () => {
    // The target's db 5 holds the copy above, plus one stale key a reconcile pass must delete.
    await tgt.select(5);
    await tgt.set('stale:only-on-target', 'x');
    await tgt.select(0);
    const ls = new LiveSync(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
      dbs: [3],
      remap: REMAP,
      reconcileOnStart: true,
    });
    await ls.start();
    try {
      const w = await source.client(3);
      await w.set('k:new', 'written during live sync');
      await w.del('k:0');
      await w.hset('h', 'b', '2');
      await (await source.client(0)).set('db0:during', 'not followed');
      await ls.drain({ timeoutMs: 10_000 });
      assert.deepEqual(await compareDbs(src, 3, tgt, 5), []);
      const after = await sizes(tgt);
      assert.deepEqual(after, { 3: 1, 5: 503 }, 'nothing in target db 0; db 3 keeps only its own key');
    } finally {
      await ls.stop();
    }
  });
});
