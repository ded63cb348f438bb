// `--json` prints exactly one JSON document on stdout, for every command that has it, so
// `migration-buddy verify a b --json | jq .identical` prints one answer. Progress goes to stderr:
// NDJSON with `--progress json`, nothing by default when stderr is not a terminal (as here).
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CliRun, runCli } from '../harness/cli.js';
import { compareServers } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

/** stdout parsed as one document; fails (showing stdout) when it is several or none. */
function oneDocument(run: CliRun): Record<string, unknown> {
  let doc: unknown;
  assert.doesNotThrow(() => {
    doc = JSON.parse(run.stdout);
  }, `stdout is not one JSON document (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  assert.ok(doc && typeof doc === 'object' && !Array.isArray(doc), run.stdout);
  return doc as Record<string, unknown>;
}

/** stderr lines that are JSON objects. */
function ndjson(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('--json: one document on stdout', () => {
  let control: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let dir: string;
  let config: string;
  const cli = (...args: string[]) => runCli([...args], { CONTROL_REDIS_URL: '' });

  before(async () => {
    [control, source, target] = await Promise.all([
      startRedis(),
      startRedis({ configLines: ['notify-keyspace-events KEA'] }),
      startRedis(),
    ]);
    const c = await source.client();
    const pipe = c.pipeline();
    for (let i = 0; i < 2000; i++) pipe.set(`k:${i}`, `v-${i}`);
    pipe.hset('h', 'a', '1', 'b', '2');
    pipe.rpush('l', 'x', 'y');
    await pipe.exec();
    dir = mkdtempSync(join(tmpdir(), 'mb-cli-json-'));
    config = join(dir, 'config.yml');
    writeFileSync(
      config,
      [
        'endpoints:',
        `  src: { url: "${source.url}" }`,
        `  dst: { url: "${target.url}" }`,
        'control:',
        `  url: ${control.url}`,
        '',
      ].join('\n'),
    );
  });
  after(async () => {
    await Promise.all([control?.stop(), source?.stop(), target?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('probe and plan', async () => {
    const probe = await cli('probe', source.url, '--json');
    assert.equal(probe.code, 0, probe.stderr);
    assert.equal((oneDocument(probe).server as { version: string }).version.split('.').length, 3);
    // --sample N is the one spelling (as in verify); --samples still works, saying so on stderr.
    for (const flag of ['--sample', '--samples']) {
      const sampled = await cli('probe', source.url, flag, '50', '--json');
      assert.equal(sampled.code, 0, sampled.stderr);
      const { bigKeys } = oneDocument(sampled) as { bigKeys?: { sampled: number } };
      assert.ok(bigKeys && bigKeys.sampled > 0 && bigKeys.sampled <= 60, JSON.stringify(bigKeys));
      assert.equal(/--samples is deprecated, use --sample/.test(sampled.stderr), flag === '--samples');
    }
    const plan = await cli('plan', source.url, target.url, '--json');
    assert.equal(plan.code, 0, plan.stderr);
    assert.ok(oneDocument(plan).strategy);
  });

  it('copy and verify: the report alone on stdout, progress as NDJSON on stderr with --progress json', async () => {
    const quiet = await cli('copy', source.url, target.url, '--json');
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(oneDocument(quiet).keysCopied, 2002);
    assert.deepEqual(ndjson(quiet.stderr), [], 'no progress by default when stderr is not a terminal');
    assert.deepEqual(await compareServers(source, target), []);

    const copy = await cli('copy', source.url, target.url, '--replace', '--json', '--progress', 'json');
    assert.equal(copy.code, 0, copy.stderr);
    assert.equal(oneDocument(copy).keysCopied, 2002);
    const progress = ndjson(copy.stderr);
    assert.ok(progress.length > 0, copy.stderr);
    assert.ok(progress.every((p) => p.event === 'progress' && typeof p.done === 'number'));

    // --examples is the new name of verify's --samples (too like --sample); the old one still works.
    await (await target.client()).del('k:1', 'k:2', 'k:3');
    for (const flag of ['--examples', '--samples']) {
      const run = await cli('verify', source.url, target.url, flag, '1', '--json', '--recheck-rounds', '0');
      assert.equal(run.code, 1, run.stderr);
      const { differences } = oneDocument(run) as {
        differences: { missing: { count: number; samples: unknown[] } };
      };
      assert.equal(differences.missing.count, 3);
      assert.equal(differences.missing.samples.length, 1);
      assert.equal(/--samples is deprecated, use --examples/.test(run.stderr), flag === '--samples');
    }
    const again = await cli('copy', source.url, target.url, '--replace');
    assert.equal(again.code, 0, again.stderr);

    const verify = await cli('verify', source.url, target.url, '--json', '--progress', 'json');
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(oneDocument(verify).identical, true);
    assert.ok(ndjson(verify.stderr).some((p) => p.event === 'progress'));

    // An error is one document too.
    const refused = await cli('copy', source.url, target.url, '--json');
    assert.equal(refused.code, 1);
    assert.match(String(oneDocument(refused).error), /is not empty/);
  });

  it('import', async () => {
    const c = await source.client();
    await c.call('SAVE');
    const dump = ((await c.config('GET', 'dir')) as string[])[1]!;
    const file = join(dir, 'source.rdb');
    copyFileSync(join(dump, 'dump.rdb'), file);
    const run = await cli('import', file, target.url, '--replace', '--json', '--progress', 'json');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(oneDocument(run).keysRestored, 2002);
    assert.ok(ndjson(run.stderr).every((p) => p.event === 'progress'));
    assert.deepEqual(await compareServers(source, target), []);
  });

  it('migrate, audit and unlock', async () => {
    await (await target.client()).flushall();
    const run = await cli(
      'migrate',
      'src',
      'dst',
      '-c',
      config,
      '--as',
      'UREQ',
      '--approve-as',
      'UBUDDY',
      '--strategy',
      'dump-restore',
      '--json',
      '--progress',
      'json',
    );
    const doc = oneDocument(run) as { migration: string; status: string; events: { type: string }[] };
    assert.match(doc.migration, /^m/);
    assert.ok(doc.events.length > 3);
    assert.equal(doc.events[0]!.type, 'migration_created');
    assert.equal(run.code, doc.status === 'succeeded' ? 0 : 1, run.stderr);
    // The events came as progress on stderr, the same ones.
    const streamed = ndjson(run.stderr).filter((e) => e.migrationId === doc.migration);
    assert.equal(streamed.length, doc.events.length);

    const audit = await cli('audit', doc.migration, '-c', config, '--json');
    assert.equal(audit.code, 0, audit.stderr);
    const trail = oneDocument(audit) as { migration: string; events: { type: string }[] };
    assert.equal(trail.migration, doc.migration);
    assert.deepEqual(
      trail.events.slice(0, 3).map((e) => e.type),
      doc.events.slice(0, 3).map((e) => e.type),
    );

    // The migration ended and gave its lock back: nothing to clear, said in one document.
    const unlock = await cli('unlock', 'src', '--as', 'UREQ', '-c', config, '--json');
    assert.equal(unlock.code, 1, unlock.stderr);
    assert.match(String(oneDocument(unlock).error), /nothing to clear/);
  });
});
