// The reconcile pass compares before it copies: equal small keys are left alone, differing ones are
// copied, and a key that may be big is handed to the copier uncompared (its DUMP is never held here).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engineCopier } from '../../src/engine/live-sync/copier.js';
import { copyDiffering } from '../../src/engine/live-sync/reconcile.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { compareServers } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

describe('reconcile: compare, then copy only what differs', () => {
  let source: RedisServer;
  let target: RedisServer;
  before(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
  });
  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  test('equal keys are not copied; a changed, a missing and a big key are', async () => {
    const [src, dst] = [await source.client(), await target.client()];
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    for (const c of [src, dst]) {
      const p = c.pipeline();
      for (let i = 0; i < 500; i++) p.set(`k:${i}`, `v${i}`);
      p.set('big', big);
      await p.exec();
    }
    await dst.set('k:7', 'changed on the target');
    await dst.del('k:8');

    const copied: string[] = [];
    const real = engineCopier(parseEndpointUrl(source.url, 's'), parseEndpointUrl(target.url, 't'));
    const copier = {
      async copyKeySet(db: number, keys: Buffer[]) {
        copied.push(...keys.map((k) => k.toString()));
        return real.copyKeySet(db, keys);
      },
    };
    const [a, b] = [await source.client(), await target.client()];
    try {
      const res = await copyDiffering(copier, a, b, 0, {
        batchSize: 100,
        signal: new AbortController().signal,
      });
      assert.deepEqual(copied.sort(), ['big', 'k:7', 'k:8']);
      assert.equal(res.copied, 3);
      assert.equal(res.compared, 500, 'the big key was not compared');
    } finally {
      await real.close?.();
    }
    assert.deepEqual(await compareServers(source, target, { dbs: [0] }), []);
  });
});
