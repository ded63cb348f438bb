// A whole dump-restore migration (`migration-buddy migrate`, its own workers) whose source turns into
// a replica of another server in a before_cutover hook, with the app writing to the source (issue
// #10). The migration must fail saying so, never succeed; the write pause and the repoint must not
// happen; the target keeps what it had: every seed key with the source's value (the other server
// has a different seed:1) and every write the app had acknowledged before the hook ran.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type AppReport,
  checkAcknowledged,
  readEndpointFile,
  repointHookCommand,
  startApp,
  writeEndpointFile,
} from '../harness/app/index.js';
import { runCli } from '../harness/cli.js';
import { scriptedMigrateArgs, writeMigrateConfig } from '../harness/migrate-run.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { ackedBefore, assertSeedIntact, seed } from './faults-support.js';

const SEED = 5000;

const cli = (args: string[]) => runCli(args, { CONTROL_REDIS_URL: '' });

describe('migrate: the source becomes a replica before the cutover', () => {
  let control: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let other: RedisServer;
  let dir: string;

  before(async () => {
    [control, source, target, other] = await Promise.all([
      startRedis(),
      startRedis({ configLines: ['notify-keyspace-events KEA'] }),
      startRedis(),
      startRedis(),
    ]);
    await seed(source, SEED);
    const o = await other.client();
    await o.set('seed:1', 'from the other server');
    await o.set('other:only', 'x');
    dir = mkdtempSync(join(tmpdir(), 'mb-faults-migrate-'));
  });

  after(async () => {
    await (await source.client()).call('REPLICAOF', 'NO', 'ONE').catch(() => undefined);
    await Promise.all([control?.stop(), source?.stop(), target?.stop(), other?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails with the reason, never pauses or repoints, and the target keeps what it had', async () => {
    const endpointFile = join(dir, 'app.url');
    writeEndpointFile(endpointFile, source.url);
    const turnedAtFile = join(dir, 'turned-at');
    const config = join(dir, 'config.yml');
    writeMigrateConfig(config, {
      source,
      target,
      control,
      hooks: {
        turn: {
          command: `date +%s%3N > ${turnedAtFile} && redis-cli -p ${source.port} replicaof 127.0.0.1 ${other.port}`,
          at: 'before_cutover',
        },
        repoint: { command: repointHookCommand(endpointFile), at: 'repoint' },
      },
    });
    const app = await startApp({ endpointFile, rate: 300, dir });
    let report: AppReport;
    let run: Awaited<ReturnType<typeof cli>>;
    try {
      run = await cli(scriptedMigrateArgs(config, 'dump-restore'));
    } finally {
      report = await app.stop();
    }
    const out = run.stdout + run.stderr;
    assert.equal(run.code, 1, out);
    assert.doesNotMatch(out, /migration m[0-9a-z]+ succeeded/);
    assert.match(out, new RegExp(`became a replica of 127\\.0\\.0\\.1:${other.port}`), out);
    assert.match(out, /the target keeps what it had/, out);
    assert.doesNotMatch(out, /"Pause source writes" succeeded/, out);
    // The apps were never repointed.
    assert.equal(readEndpointFile(endpointFile), source.url);
    await assertSeedIntact(target, SEED);
    assert.equal(await (await target.client()).exists('other:only'), 0);
    const turnedAt = Number(readFileSync(turnedAtFile, 'utf8').trim());
    const acked = await checkAcknowledged(await ackedBefore(report, turnedAt - 1000), target.url);
    assert.ok(acked.checked > 20, `${acked.checked} writes checked`);
    assert.ok(acked.ok, JSON.stringify(acked.missing.slice(0, 5)));
  });
});
