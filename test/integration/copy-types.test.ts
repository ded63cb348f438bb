import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { copyKeys } from '../../src/engine/copy/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { compareServers, snapshotKey } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { ALL_BYTES, fillEveryType, fillStream, INVALID_UTF8 } from './copy-fixtures.js';

const ep = (s: RedisServer, name: string) => parseEndpointUrl(s.url, name);

describe('copy: every type, binary data, TTLs, databases', () => {
  let source: RedisServer;
  before(async () => {
    source = await startRedis();
    const c = await source.client();
    await fillEveryType(c);
    // A pending entry whose message was deleted: only DUMP/RESTORE can carry it.
    await c.select(3);
    await fillEveryType(c, 'db3:');
    await c.select(15);
    await c.set('only-in-15', 'x', 'PX', 600_000);
  });
  after(async () => {
    await source.stop();
  });

  for (const mode of ['auto', 'by-type'] as const) {
    test(`mode ${mode}: target equals source (values, TTLs, stream groups and pending entries)`, async () => {
      const target = await startRedis();
      try {
        const report = await copyKeys(ep(source, 'src'), ep(target, 'dst'), {
          dbs: 'all',
          onNonEmptyTarget: 'refuse',
          mode,
          batchSize: 7,
        });
        assert.deepEqual(await compareServers(source, target), []);
        const sc = await source.client();
        const expectedKeys = (await sc.select(0).then(() => sc.dbsize())) * 2 + 1;
        assert.equal(report.keysCopied, expectedKeys);
        assert.deepEqual(report.dbs, [0, 3, 15]);
        assert.equal(report.keysFailed, 0);
        assert.equal(report.keysSkipped, 0);
        assert.equal(report.keysByTypeFallback, mode === 'by-type' ? expectedKeys : 0);
        assert.equal(report.complete, true);
        assert.ok(report.bytesCopied > 10_000); // DUMP payloads are LZF-compressed: less than the raw bytes

        // Spot checks that do not rely on the comparison helper.
        const tc = await target.client();
        assert.deepEqual(await tc.getBuffer(ALL_BYTES), Buffer.from(ALL_BYTES).reverse());
        assert.deepEqual(await tc.getBuffer(INVALID_UTF8), INVALID_UTF8);
        assert.equal(await tc.pttl('str:plain'), -1);
        const ttl = await tc.pttl('str:ttl');
        assert.ok(ttl > 100_000 && ttl <= 120_000, `ttl ${ttl}`);
        const groups = (await tc.xinfo('GROUPS', 'stream:groups')) as unknown[][];
        assert.equal(groups.length, 2);
        await tc.select(15);
        assert.ok((await tc.pttl('only-in-15')) > 590_000);
      } finally {
        await target.stop();
      }
    });
  }

  test('--db selects databases; a copy never touches the others', async () => {
    const target = await startRedis();
    try {
      const report = await copyKeys(ep(source, 'src'), ep(target, 'dst'), {
        dbs: [3],
        onNonEmptyTarget: 'refuse',
      });
      assert.deepEqual(report.dbs, [3]);
      assert.deepEqual(await compareServers(source, target, { dbs: [3] }), []);
      const tc = await target.client();
      assert.equal(await tc.dbsize(), 0);
    } finally {
      await target.stop();
    }
  });

  test('--match copies only matching keys', async () => {
    const target = await startRedis();
    try {
      const report = await copyKeys(ep(source, 'src'), ep(target, 'dst'), {
        dbs: [0],
        match: 'hash:*',
        onNonEmptyTarget: 'refuse',
      });
      assert.equal(report.keysCopied, 3);
      const tc = await target.client();
      assert.deepEqual((await tc.keys('*')).sort(), ['hash:big', 'hash:binary', 'hash:small']);
    } finally {
      await target.stop();
    }
  });
});

describe('copy: streams', () => {
  test('DUMP/RESTORE keeps a pending entry whose message was deleted; by-type recreates the rest', async () => {
    const source = await startRedis();
    const dumpTarget = await startRedis();
    const typeTarget = await startRedis();
    try {
      const c = await source.client();
      await fillStream(c, 's', 30);
      const pending = (await c.xpending('s', 'workers', '-', '+', 10)) as [string][];
      await c.xdel('s', pending[0]![0]);
      await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(dumpTarget.url), {
        dbs: 'all',
        onNonEmptyTarget: 'refuse',
      });
      assert.deepEqual(await compareServers(source, dumpTarget), []);

      const report = await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(typeTarget.url), {
        dbs: 'all',
        onNonEmptyTarget: 'refuse',
        mode: 'by-type',
      });
      assert.equal(report.keysByTypeFallback, 1);
      type Snap = { groups: { name: string; pel: string[] }[] };
      const s = (await snapshotKey(c, Buffer.from('s')))!.value as Snap;
      const t = (await snapshotKey(await typeTarget.client(), Buffer.from('s')))!.value as Snap;
      const pel = (snap: Snap, group: string) =>
        snap.groups.find((g) => g.name === Buffer.from(group).toString('hex'))!.pel;
      // Everything but the orphaned pending entry (XCLAIM cannot recreate it) matches.
      assert.deepEqual(pel(t, 'late'), pel(s, 'late'));
      assert.ok(pel(s, 'workers').some((p) => p.startsWith(`${pending[0]![0]}:`)));
      assert.deepEqual(
        pel(t, 'workers'),
        pel(s, 'workers').filter((p) => !p.startsWith(`${pending[0]![0]}:`)),
      );
    } finally {
      await source.stop();
      await dumpTarget.stop();
      await typeTarget.stop();
    }
  });
});
