import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { copyKeys } from '../../src/engine/copy/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { compareServers, snapshotKey } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { ALL_BYTES, fillEveryType, fillStream, INVALID_UTF8 } from './copy-fixtures.js';

const ep = (s: RedisServer, name: string) => parseEndpointUrl(s.url, name);

/** MEMORY USAGE calls the server has answered so far. */
async function memoryUsageCalls(s: RedisServer): Promise<number> {
  const stats = await (await s.client()).info('commandstats');
  return Number(/^cmdstat_memory\|usage:calls=(\d+)/m.exec(stats)?.[1] ?? 0);
}

async function fillDatabases(s: RedisServer): Promise<void> {
  const c = await s.client();
  await fillEveryType(c);
  // A pending entry whose message was deleted: only DUMP/RESTORE can carry it.
  await c.select(3);
  await fillEveryType(c, 'db3:');
  await c.select(15);
  await c.set('only-in-15', 'x', 'PX', 600_000);
}

describe('copy: every type, binary data, TTLs, databases', () => {
  /** No maxmemory: 'auto' measures every key (MEMORY USAGE) before its DUMP. */
  let source: RedisServer;
  /** The same data with a maxmemory far above it: 'auto' DUMPs without measuring. */
  let roomySource: RedisServer;
  before(async () => {
    [source, roomySource] = await Promise.all([startRedis(), startRedis({ configLines: ['maxmemory 1gb'] })]);
    await Promise.all([fillDatabases(source), fillDatabases(roomySource)]);
  });
  after(async () => {
    await source.stop();
    await roomySource.stop();
  });

  interface Case {
    mode: 'auto' | 'by-type';
    /** Copy from roomySource rather than source. */
    roomy: boolean;
    sizeProbe?: 'always';
    /** Expected: MEMORY USAGE for every key. */
    perKey: boolean;
    label: string;
  }
  const cases: Case[] = [
    { mode: 'auto', roomy: false, perKey: true, label: 'size probe on (no maxmemory)' },
    { mode: 'auto', roomy: true, perKey: false, label: 'size probe off (maxmemory 1gb)' },
    {
      mode: 'auto',
      roomy: true,
      sizeProbe: 'always',
      perKey: true,
      label: "sizeProbe 'always' (maxmemory 1gb)",
    },
    { mode: 'by-type', roomy: false, perKey: true, label: 'no maxmemory' },
  ];
  for (const { mode, roomy, sizeProbe, perKey, label } of cases) {
    test(`mode ${mode}, ${label}: target equals source (values, TTLs, stream groups and pending entries)`, async () => {
      const from = roomy ? roomySource : source;
      const target = await startRedis();
      try {
        const probesBefore = await memoryUsageCalls(from);
        const report = await copyKeys(ep(from, 'src'), ep(target, 'dst'), {
          dbs: 'all',
          onNonEmptyTarget: 'refuse',
          mode,
          batchSize: 7,
          ...(sizeProbe ? { sizeProbe } : {}),
        });
        const probes = (await memoryUsageCalls(from)) - probesBefore;
        assert.equal(report.sizeProbe?.perKey, perKey, report.sizeProbe?.reason);
        if (perKey) assert.ok(probes >= report.keysCopied, `${probes} MEMORY USAGE calls`);
        else {
          assert.equal(probes, 0);
          assert.match(report.sizeProbe!.reason, /maxmemory 1024 MiB/);
        }
        assert.deepEqual(await compareServers(from, target), []);
        const sc = await from.client();
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
