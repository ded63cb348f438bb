// The psync engine's full sync: a real source's RDB, disk-backed and diskless, onto a target,
// every type, TTLs, several databases, function libraries, stream groups; checked with the
// independent comparison (test/harness/compare.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareServers } from '../harness/compare.js';
import { fillEveryType } from './copy-fixtures.js';
import { caughtUp, replicaOf, startPair } from './psync-support/setup.js';

const LIB =
  "#!lua name=psynclib\nredis.register_function('psync_echo', function(keys, args) return args[1] end)";

async function fill(pair: Awaited<ReturnType<typeof startPair>>): Promise<void> {
  const c = await pair.source.client();
  await fillEveryType(c);
  await c.select(3);
  await fillEveryType(c, 'db3:');
  await c.select(0);
  await c.call('FUNCTION', 'LOAD', LIB);
}

for (const diskless of [true, false]) {
  test(`a ${diskless ? 'diskless' : 'disk-backed'} full sync mirrors every type, TTL, db and function`, async () => {
    const pair = await startPair({
      configLines: [`repl-diskless-sync ${diskless ? 'yes' : 'no'}`, 'repl-diskless-sync-delay 0'],
    });
    try {
      await fill(pair);
      const { replica, events } = replicaOf(pair);
      await replica.start();
      const loaded = await replica.rdbLoaded();
      assert.ok(loaded.keys > 40, `${loaded.keys} keys`);
      await caughtUp(replica);
      assert.equal(replica.phase, 'stream');
      assert.deepEqual(await compareServers(pair.source, pair.target), []);
      const t = await pair.target.client();
      assert.equal(await t.call('FCALL', 'psync_echo', 0, 'hi'), 'hi');
      const started = events.find((e) => e.kind === 'full-sync-started');
      assert.ok(started && started.kind === 'full-sync-started');
      const done = events.find((e) => e.kind === 'rdb-loaded');
      assert.ok(done && done.kind === 'rdb-loaded' && done.functions === 1);
      const progress = events.filter((e) => e.kind === 'rdb-progress');
      assert.ok(progress.length > 0);
      const last = progress.at(-1)!;
      assert.ok(last.kind === 'rdb-progress');
      assert.equal(last.totalBytes === null, diskless);
      const cp = replica.checkpoint;
      assert.ok(cp && cp.replid === started.replid && cp.offset >= started.offset);
      // The comparison can tell a difference: one write on the target only.
      await t.set('only-on-target', '1');
      assert.equal((await compareServers(pair.source, pair.target)).length, 1);
      await replica.stop();
      assert.equal(replica.phase, 'stopped');
    } finally {
      await pair.stop();
    }
  });
}

test('spool mode: the RDB goes through a file and the result is the same', async () => {
  const { mkdtempSync, readdirSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'psync-spool-'));
  const pair = await startPair({ configLines: ['repl-diskless-sync yes', 'repl-diskless-sync-delay 0'] });
  try {
    await fill(pair);
    let spooled = 0;
    const { replica } = replicaOf(pair, {
      spoolDir: dir,
      onEvent: (e) => {
        if (e.kind === 'rdb-progress') spooled = Math.max(spooled, readdirSync(dir).length);
      },
    });
    await replica.start();
    await replica.rdbLoaded();
    assert.equal(spooled, 1, 'the RDB was read from a spool file');
    const c = await pair.source.client();
    await c.set('after-rdb', 'x');
    await caughtUp(replica);
    assert.deepEqual(await compareServers(pair.source, pair.target), []);
    await replica.stop();
    assert.deepEqual(readdirSync(dir), [], 'the spool file is removed');
  } finally {
    await pair.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a non-empty target is refused before anything is written, unless told', async () => {
  const pair = await startPair();
  try {
    const c = await pair.source.client();
    await c.set('a', '1');
    const t = await pair.target.client();
    await t.set('mine', 'keep');
    const { replica } = replicaOf(pair);
    await assert.rejects(replica.start(), /not empty/);
    assert.equal(replica.phase, 'failed');
    assert.equal(await t.get('mine'), 'keep');
    const { replica: flushing } = replicaOf(pair, { onNonEmptyTarget: 'flush' });
    await flushing.start();
    await flushing.rdbLoaded();
    await caughtUp(flushing);
    assert.equal(await t.get('mine'), null);
    assert.equal(await t.get('a'), '1');
    await flushing.stop();
  } finally {
    await pair.stop();
  }
});
