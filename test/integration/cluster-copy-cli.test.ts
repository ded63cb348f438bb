// `copy` and `verify` on the command line with a Redis Cluster on either side (issue #14 part 2a),
// run as a user runs them (a child process): standalone -> 3-shard cluster, cluster -> standalone,
// cluster (3 shards) -> cluster (2 shards), each checked by `verify` and by the independent
// comparison (test/harness/compare-cluster.ts, plain per-node reads); a planted difference found by
// `verify` with its node; refusals (non-empty target, options not built for clusters) that write
// nothing; a key over the big-key threshold copied in chunks; a resharding of the source followed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { runCopyAcross } from '../../src/engine/cluster/copy-across-run.js';
import { DEFAULT_BIG_KEY_THRESHOLD } from '../../src/engine/copy/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { jsonReport, runCli } from '../harness/cli.js';
import { compareSides, snapshotSide } from '../harness/compare-cluster.js';
import { type RedisCluster, startCluster } from '../harness/redis-cluster.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { fillEveryType } from './copy-fixtures.js';

const LIBRARY = "#!lua name=mblib\nredis.register_function('mb_one', function(keys, args) return 1 end)";

/** Every type (one key of 100 kB), hash-tagged families and plain keys with and without TTLs. */
async function fill(c: Redis, prefix: string): Promise<void> {
  await fillEveryType(c, prefix);
  for (let i = 0; i < 50; i++) await c.set(`{${prefix}user${i % 5}}.field${i}`, `tagged-${i}`);
  const p = c.pipeline();
  for (let i = 0; i < 300; i++) {
    if (i % 4 === 0) p.set(`${prefix}k:${i}`, `v${i}`, 'PX', 600_000);
    else p.set(`${prefix}k:${i}`, `v${i}`);
  }
  await p.exec();
}

async function librariesOn(server: RedisServer): Promise<string[]> {
  const list = (await (await server.client()).call('FUNCTION', 'LIST')) as unknown[][];
  return list.map((lib) => String(lib[1])).sort();
}

async function primaryKeys(cluster: RedisCluster): Promise<number[]> {
  return Promise.all(cluster.primaries.map(async (p) => (await p.server.client()).dbsize()));
}

describe('copy and verify CLI across topologies', () => {
  let three: RedisCluster;
  let two: RedisCluster;
  let source: RedisServer;
  let back: RedisServer;

  before(async () => {
    [three, two, source, back] = await Promise.all([
      startCluster({ primaries: 3 }),
      startCluster({ primaries: 2 }),
      startRedis(),
      startRedis(),
    ]);
    const c = await source.client();
    await fill(c, 's:');
    await c.call('FUNCTION', 'LOAD', LIBRARY);
    // The one key over 200 kB (the refusal below); copied like any other by the later tests.
    await c.set('s:str:huge', Buffer.alloc(250_000, 0x61));
  });
  after(async () => {
    await Promise.all([three?.stop(), two?.stop(), source?.stop(), back?.stop()]);
  });

  test('refused before writing: a non-empty target primary, --checkpoint', async () => {
    const c = await three.client();
    await c.set('already-here', 'x');
    const owner = await three.nodeOfSlot(await three.keySlot('already-here'));
    const refused = await runCli(['copy', source.url, three.url]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /not empty/);
    assert.match(refused.stderr, new RegExp(`127\\.0\\.0\\.1:${owner.server.port}: db0 has 1 key`));
    assert.match(refused.stderr, /--replace|--flush-target/);
    assert.deepEqual([...(await snapshotSide(three)).keys()], [Buffer.from('already-here').toString('hex')]);
    await c.del('already-here');

    const checkpoint = await runCli([
      'copy',
      source.url,
      three.url,
      '--checkpoint',
      '/tmp/never-written.json',
    ]);
    assert.equal(checkpoint.code, 2, checkpoint.stderr);
    assert.match(checkpoint.stderr, /--checkpoint is not built for a copy to or from a Redis Cluster/);
    assert.deepEqual(await primaryKeys(three), [0, 0, 0]);
  });

  test('standalone -> 3-shard cluster: every key and the library on every primary; verify says identical', async () => {
    const copy = await runCli([
      'copy',
      source.url,
      three.url,
      '--json',
      '--progress',
      'json',
      '--batch-size',
      '64',
      // s:str:huge (250 kB) goes over it: copied in chunks.
      '--big-key-threshold',
      '200k',
    ]);
    assert.equal(copy.code, 0, copy.stderr);
    const report = jsonReport(copy.stdout);
    const sourceKeys = await (await source.client()).dbsize();
    assert.equal(report.copied, sourceKeys);
    assert.equal(report.complete, true);
    assert.deepEqual(report.topology, { source: 'standalone', target: 'cluster' });
    assert.ok(
      copy.stderr.split('\n').some((l) => l.includes('"phase":"keys"')),
      `progress lines on stderr: ${copy.stderr}`,
    );
    for (const p of three.primaries) {
      assert.deepEqual(await librariesOn(p.server), ['mblib'], `libraries on ${p.server.port}`);
    }
    for (const n of await primaryKeys(three)) assert.ok(n > 0, 'every shard got keys');

    const verify = await runCli(['verify', source.url, three.url]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /^IDENTICAL: /);
    assert.deepEqual(await compareSides(source, three), []);
  });

  test('cluster -> standalone db 3: each primary scanned, all keys in one database', async () => {
    const copy = await runCli(['copy', `${three.url}/0`, `${back.url}/3`]);
    assert.equal(copy.code, 0, copy.stderr);
    assert.match(copy.stdout, /^copied \d+ keys from .* \(cluster\) to .* \(standalone\)/);
    assert.match(copy.stdout, /databases: db0 -> db3/);
    for (const p of three.primaries)
      assert.match(copy.stdout, new RegExp(`127\\.0\\.0\\.1:${p.server.port}: \\d+ keys`));
    assert.deepEqual(await librariesOn(back), ['mblib']);

    const verify = await runCli(['verify', `${three.url}/0`, `${back.url}/3`, '--json']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.equal(jsonReport(verify.stdout).identical, true);
    assert.deepEqual(await compareSides(three, back, { b: 3 }), []);
  });

  test('cluster (3 shards) -> cluster (2 shards) with --flush-target; then a planted difference is found', async () => {
    // Stale data on the target: flushed on every primary, libraries too.
    const t = await two.client();
    await t.set('stale', 'old');
    for (const p of two.primaries)
      await (await p.server.client()).call('FUNCTION', 'LOAD', LIBRARY.replace('mblib', 'stalelib'));
    const refused = await runCli(['copy', three.url, two.url]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /function libraries: stalelib/);

    const copy = await runCli(['copy', three.url, two.url, '--flush-target', '--yes']);
    assert.equal(copy.code, 0, copy.stderr);
    assert.match(copy.stdout, /flushed first: /);
    for (const p of two.primaries) assert.deepEqual(await librariesOn(p.server), ['mblib']);
    assert.deepEqual(await compareSides(three, two), []);
    const identical = await runCli(['verify', three.url, two.url]);
    assert.equal(identical.code, 0, identical.stdout + identical.stderr);

    // Hash-tagged keys stay together on the node owning their tag's slot.
    const owner = await two.nodeOfSlot(await two.keySlot('{s:user3}'));
    for (const i of [3, 8, 13])
      assert.equal(await (await owner.server.client()).get(`{s:user3}.field${i}`), `tagged-${i}`);

    // Plant: one value changed and one key deleted on the target.
    await t.set('s:k:7', 'changed');
    await t.del('{s:user1}.field1');
    const changedOn = await two.nodeOfSlot(await two.keySlot('s:k:7'));
    const missingOn = await two.nodeOfSlot(await two.keySlot('{s:user1}.field1'));
    const found = await runCli(['verify', three.url, two.url]);
    assert.equal(found.code, 1, found.stdout + found.stderr);
    assert.match(found.stdout, /^DIFFERENT: 2 keys differ/);
    assert.match(
      found.stdout,
      new RegExp(
        `s:k:7 \\(source node 127\\.0\\.0\\.1:\\d+, target node 127\\.0\\.0\\.1:${changedOn.server.port}\\): the string values differ`,
      ),
    );
    assert.match(
      found.stdout,
      new RegExp(
        `\\{s:user1\\}\\.field1 \\(source node 127\\.0\\.0\\.1:\\d+, target node 127\\.0\\.0\\.1:${missingOn.server.port}\\): missing on the target`,
      ),
    );
    // The independent comparison agrees there are exactly these two differences.
    assert.equal((await compareSides(three, two)).length, 2);

    const limited = await runCli(['verify', three.url, two.url, '--sample', '10']);
    assert.equal(limited.code, 2);
    assert.match(limited.stderr, /--sample is not built for a verify to or from a Redis Cluster/);
  });

  test('a resharding on the source during the copy: moved slots read again, the copy complete and equal', async () => {
    // In process, to reshard between two batches: slots 0-99 move from the first source primary
    // to the second; the first shard reads them again on their new owner at its end.
    for (const p of two.primaries) await (await p.server.client()).flushall();
    let moved = false;
    const report = await runCopyAcross(parseEndpointUrl(three.url), parseEndpointUrl(two.url), {
      mapping: { dbs: 'all' },
      onNonEmptyTarget: 'replace',
      bigKeyThresholdBytes: DEFAULT_BIG_KEY_THRESHOLD,
      batchSize: 20,
      onProgress: async () => {
        if (moved) return;
        moved = true;
        await three.reshard(
          Array.from({ length: 100 }, (_, i) => i),
          three.primaries[1]!,
        );
      },
    });
    assert.equal(report.complete, true, JSON.stringify(report.incomplete));
    assert.deepEqual(await compareSides(three, two), []);
    assert.ok(moved);
  });
});
