// migration-buddy import on files that are cut, corrupt, not RDBs or hold module data, and on
// targets that are not empty or cannot read the file: exit codes, what the messages say, and what
// the target holds afterwards (read with plain ioredis).
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jsonReport, runCli } from '../harness/cli.js';
import { compareServers, keyspaceDbs } from '../harness/compare.js';
import { type RedisServer, serverUnavailable, startRedis } from '../harness/redis-server.js';
import { len, len64, moduleId, rdbFile } from '../unit/engine/rdb/craft.js';
import { writeDataset } from './rdb-import-support/dataset.js';

const scratch = mkdtempSync(join(tmpdir(), 'mb-rdb-errors-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

async function totalKeys(server: RedisServer): Promise<number> {
  const info = await (await server.client()).info('keyspace');
  return [...info.matchAll(/^db\d+:keys=(\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

describe('import refusals and stops', () => {
  let source: RedisServer;
  let target: RedisServer;
  let good: Buffer;
  let file: string;

  before(async () => {
    source = await startRedis();
    file = join(scratch, 'good.rdb');
    copyFileSync((await writeDataset(source)).file, file);
    good = readFileSync(file);
    target = await startRedis();
  });
  after(async () => {
    await target?.stop();
    await source?.stop();
  });

  const flushTarget = async () => {
    const c = await target.client();
    await c.flushall();
    await c.call('FUNCTION', 'FLUSH');
  };
  const write = (name: string, bytes: Buffer) => {
    const path = join(scratch, name);
    writeFileSync(path, bytes);
    return path;
  };

  test('a truncated file stops with exit 1, the byte offset and the keys restored up to there', async () => {
    await flushTarget();
    const cut = write('cut.rdb', good.subarray(0, Math.floor(good.length / 2)));
    const run = await runCli(['import', cut, target.url, '--json']);
    assert.equal(run.code, 1, run.stderr + run.stdout);
    assert.equal(run.stdout.trim().split('\n').length, 1, 'one JSON document on stdout');
    const report = jsonReport(run.stdout);
    assert.equal(report.exitCode, 1);
    assert.match(String(report.stopped), /import stopped at byte \d+ of \d+: the RDB ends early/);
    assert.match(String(report.stopped), /keys were restored before it stopped/);
    assert.equal(report.complete, false);
    assert.ok(Number(report.keysRestored) > 10, JSON.stringify(report));
    assert.equal(await totalKeys(target), report.keysRestored);
  });

  test('a flipped byte in a value fails the checksum at the end: exit 1, and the restored keys are named as suspect', async () => {
    await flushTarget();
    const bad = Buffer.from(good);
    const at = bad.indexOf('hello');
    assert.ok(at > 0);
    bad[at + 1] ^= 0x01;
    const run = await runCli(['import', write('flipped.rdb', bad), target.url]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /checksum does not match/);
    assert.match(run.stderr, /their values may be corrupt/);
  });

  test('a file that is not an RDB gets exit 2 and the target is not touched', async () => {
    await flushTarget();
    await (await target.client()).set('keep', 'me');
    const run = await runCli([
      'import',
      write('text.rdb', Buffer.from('just some text, not a dump\n')),
      target.url,
      '--flush-target',
      '--yes',
    ]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /not an RDB file/);
    assert.equal(await (await target.client()).get('keep'), 'me');
    const empty = await runCli(['import', write('empty.rdb', Buffer.alloc(0)), target.url]);
    assert.equal(empty.code, 2, empty.stderr);
  });

  test("module aux data is refused with the module's name (exit 1)", async () => {
    await flushTarget();
    const crafted = rdbFile(10, [0xf7], len64(moduleId('ReJSON-RL', 3)), len(2), len(2), [0x00]);
    const run = await runCli(['import', write('module.rdb', crafted), target.url]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /module 'ReJSON-RL'/);
    assert.equal(await totalKeys(target), 0);
  });

  test('a non-empty target is refused; --replace and --flush-target --yes import into it', async () => {
    await flushTarget();
    const tc = await target.client();
    await tc.select(3);
    await tc.set('extra', 'x');
    await tc.select(0);
    const refused = await runCli(['import', file, target.url]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /is not empty: db3 has 1 key/);
    assert.equal(await totalKeys(target), 1);

    const replaced = await runCli(['import', file, target.url, '--replace', '--json']);
    assert.equal(replaced.code, 0, replaced.stderr + replaced.stdout);
    assert.deepEqual(
      (await compareServers(source, target)).filter((d) => !d.includes('extra')),
      [],
    );
    assert.equal((await compareServers(source, target)).length, 1, 'the extra key stays');

    const flushed = await runCli(['import', file, target.url, '--flush-target', '--yes']);
    assert.equal(flushed.code, 0, flushed.stderr);
    assert.match(flushed.stdout, /flushed first: db0/);
    assert.deepEqual(await compareServers(source, target), []);
  });

  test('--db restores only the databases named', async () => {
    await flushTarget();
    const run = await runCli(['import', file, target.url, '--db', '3', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(await keyspaceDbs(await target.client()), [3]);
    assert.deepEqual(await compareServers(source, target, { dbs: [3] }), []);
    assert.ok(Number(jsonReport(run.stdout).keysSkipped) > 0);
    const withDb = await runCli(['import', file, `${target.url}/3`]);
    assert.equal(withDb.code, 2, withDb.stderr);
    assert.match(withDb.stderr, /the target URL names database 3/);
  });

  test('a value over --max-value-size stops the import naming the key and the cap', async () => {
    await flushTarget();
    const run = await runCli(['import', file, target.url, '--max-value-size', '1kb']);
    assert.equal(run.code, 1, run.stderr);
    // The fixture has a long key name and a long value: which comes first depends on the order of
    // the server's hash table (its seed is random per process), so either is named.
    assert.match(
      run.stderr,
      /key ".+" in db \d+ \(entry at byte \d+\) has a value over the 1024-byte cap|a key of \d+ bytes \(at byte \d+\) is over the 1024-byte cap/,
    );
  });
});

test('LFU counters travel with the keys (RESTORE ... FREQ from the FREQ opcode)', async () => {
  const lfu = ['maxmemory-policy allkeys-lfu'];
  const source = await startRedis({ configLines: lfu });
  const target = await startRedis({ configLines: lfu });
  try {
    const c = await source.client();
    await c.set('hot', 'v');
    await c.set('cold', 'v');
    for (let i = 0; i < 2000; i++) await c.get('hot');
    const hot = Number(await c.call('OBJECT', 'FREQ', 'hot'));
    assert.ok(hot > 5, `source counter ${hot}`);
    await c.call('SAVE');
    const dir = ((await c.config('GET', 'dir')) as string[])[1]!;
    const path = join(scratch, 'lfu.rdb');
    copyFileSync(join(dir, 'dump.rdb'), path);
    const run = await runCli(['import', path, target.url]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(await compareServers(source, target), []);
    // A key RESTOREd without FREQ starts at LFU_INIT_VAL (5).
    const restored = Number(await (await target.client()).call('OBJECT', 'FREQ', 'hot'));
    assert.ok(restored > 5 && restored <= hot, `target counter ${restored}, source ${hot}`);
  } finally {
    await target.stop();
    await source.stop();
  }
});

describe('a target that cannot RESTORE the file', async () => {
  const missing = await serverUnavailable('redis-8.0');
  test('an RDB 12 file into Redis 7.0 goes by type; a hash with field TTLs is refused unless --drop-field-ttls', {
    skip: missing,
  }, async () => {
    const writer = await startRedis({ server: 'redis-8.0' });
    const old = await startRedis();
    try {
      const c = await writer.client();
      await c.set('k', 'v');
      await c.hset('h', 'a', '1', 'b', '2');
      await c.call('HPEXPIRE', 'h', 600_000, 'FIELDS', 1, 'a');
      await c.call('SAVE');
      const dir = ((await c.config('GET', 'dir')) as string[])[1]!;
      const path = join(scratch, 'rdb12.rdb');
      copyFileSync(join(dir, 'dump.rdb'), path);

      const refused = await runCli(['import', path, old.url]);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(
        refused.stdout,
        /written by type .*not RESTORE: the target \(Redis 7\.0\.\d+\) reads RDB 10 and the file is RDB 12/,
      );
      assert.match(refused.stdout, /db0 h: by type: the hash has 1 field with a TTL .*--drop-field-ttls/);
      const oc = await old.client();
      assert.equal(await oc.get('k'), 'v');
      assert.equal(await oc.exists('h'), 0, 'the hash with field TTLs is not written');

      const dropped = await runCli(['import', path, old.url, '--replace', '--drop-field-ttls', '--json']);
      assert.equal(dropped.code, 0, dropped.stderr + dropped.stdout);
      const report = jsonReport(dropped.stdout);
      assert.equal(report.writeMethod, 'by-type');
      assert.equal(report.fieldTtlsDropped, 1);
      assert.deepEqual(await oc.hgetall('h'), { a: '1', b: '2' });
      assert.equal(await totalKeys(old), 2);
    } finally {
      await old.stop();
      await writer.stop();
    }
  });
});
