// Whole migrations (`migrate` on the command line) while an app writes 2,000 writes/s and is moved
// by a command repoint hook: the migration succeeds, every acknowledged write is on the target,
// the fixture is identical by an independent comparison, and the final check tells the app's
// writes after the repoint apart from a real difference.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkAcknowledged, repointHookCommand, startApp, writeEndpointFile } from '../harness/app/index.js';
import { runCli } from '../harness/cli.js';
import { compareServers } from '../harness/compare.js';
import { type HookLines, scriptedMigrateArgs, writeMigrateConfig } from '../harness/migrate-run.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

const PASSWORD = 'app-cutover-secret';
const FIXTURE_KEYS = 3000;

interface Setup {
  control: RedisServer;
  source: RedisServer;
  target: RedisServer;
  dir: string;
  config: string;
  endpointFile: string;
}

async function setUp(name: string, extraHooks: Record<string, HookLines> = {}): Promise<Setup> {
  const [control, source, target] = await Promise.all([
    startRedis(),
    startRedis({
      password: PASSWORD,
      configLines: ['notify-keyspace-events KEA', 'repl-diskless-sync-delay 0'],
    }),
    startRedis(),
  ]);
  const db = await source.client();
  const pipe = db.pipeline();
  for (let i = 0; i < FIXTURE_KEYS; i++) pipe.set(`fx:${i}`, `value-${i}`);
  for (let i = 0; i < 50; i++)
    pipe.hset(`fx:h:${i}`, { a: String(i), b: 'x' }).rpush(`fx:l:${i}`, 'a', 'b', 'c');
  await pipe.exec();
  // The drain check waits for every client to leave the source: this one is done.
  db.disconnect();
  const dir = mkdtempSync(join(tmpdir(), `mb-app-cutover-${name}-`));
  const endpointFile = join(dir, 'endpoint');
  writeEndpointFile(endpointFile, source.url);
  const config = join(dir, 'config.yml');
  const command = repointHookCommand(endpointFile);
  writeMigrateConfig(config, {
    source,
    target,
    control,
    hooks: { repoint: { command, at: 'repoint' }, ...extraHooks },
  });
  return { control, source, target, dir, config, endpointFile };
}

async function tearDown(s: Setup | undefined): Promise<void> {
  if (!s) return;
  await Promise.all([s.control.stop(), s.source.stop(), s.target.stop()]);
  rmSync(s.dir, { recursive: true, force: true });
}

function migrate(s: Setup, strategy: string) {
  return runCli(scriptedMigrateArgs(s.config, strategy));
}

/** The fixture (every key but the app's) compared by the independent reader. */
async function fixtureDifferences(s: Setup): Promise<string[]> {
  const diffs = await compareServers(s.source, s.target);
  return diffs.filter((d) => !/^db\d+ app:/.test(d));
}

for (const strategy of ['dump-restore', 'replication', 'migrate']) {
  describe(`${strategy} migration under a writing app`, () => {
    let s: Setup;
    before(async () => {
      s = await setUp(strategy);
    });
    after(() => tearDown(s));

    it('succeeds; every acknowledged write is on the target; app writes after the repoint are no differences', async (t) => {
      const app = await startApp({ endpointFile: s.endpointFile, dir: s.dir });
      const run = await migrate(s, strategy);
      const report = await app.stop();
      const out = run.stdout + run.stderr;
      assert.ok(!out.includes(PASSWORD), 'no secret in the output');
      assert.equal(run.code, 0, out);
      assert.match(run.stdout, /migration m[0-9a-z]+ succeeded/);
      if (strategy !== 'replication') {
        // The pause as the engine measured it closes the run (and the Slack thread).
        const pause =
          /succeeded: src -> dst; source writes were paused for (\d+) ms \(measured on the source\)/.exec(
            run.stdout,
          );
        assert.ok(pause, run.stdout);
        t.diagnostic(`engine-measured write pause ${pause[1]} ms`);
      }
      assert.match(
        run.stdout,
        /"Final check and summary" succeeded: .*\d+ keys? written by apps after the repoint/,
      );
      const check = await checkAcknowledged(report, s.target.url);
      assert.equal(check.ok, true, JSON.stringify(check.missing.slice(0, 5)));
      assert.ok(report.byServer[`${s.target.host}:${s.target.port}`]! > 0, 'the app moved to the target');
      assert.deepEqual(await fixtureDifferences(s), []);
      t.diagnostic(
        `app: ${report.acknowledged} writes acknowledged, ${report.errors} errors, longest wait ${report.maxWaitMs} ms, ` +
          `p99 ${report.p99Ms} ms, by server ${JSON.stringify(report.byServer)}`,
      );
    });
  });
}

describe('dump-restore migration under a writing app: a real difference', () => {
  let s: Setup;
  // After the copy was verified and before the cutover, something changes 300 fixture keys on the
  // target behind the migration's back (as a live-sync change lost would): the source never
  // changes them again, so nothing repairs them, and they are no app writes after the repoint.
  const tamper = `redis-cli -u "$MB_TARGET_URL" EVAL "for i = 0, 299 do redis.call('SET', 'fx:' .. i, 'tampered') end" 0`;
  before(async () => {
    s = await setUp('tampered', { tamper: { command: tamper, at: 'before_cutover' } });
  });
  after(() => tearDown(s));

  it('fails the final check, naming fixture keys; the app writes are still set apart', async () => {
    const app = await startApp({ endpointFile: s.endpointFile, dir: s.dir });
    const run = await migrate(s, 'dump-restore');
    const report = await app.stop();
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const failed = /"Final check and summary" failed: (.*)/.exec(run.stdout)?.[1];
    assert.ok(failed, run.stdout);
    assert.match(failed, /verification failed: \d+ value/);
    assert.match(failed, /not counted as differences: \d+ keys? written by apps after the repoint/);
    assert.match(failed, /e\.g\. db 0 key fx:\d+: /);
    assert.ok(!/key app:/.test(failed), failed);
    // The independent comparison agrees: fixture keys differ.
    assert.ok((await fixtureDifferences(s)).some((d) => /^db0 fx:\d+: value/.test(d)));
    const check = await checkAcknowledged(report, s.target.url);
    assert.equal(check.ok, true, JSON.stringify(check.missing.slice(0, 5)));
  });
});
