// `migration-buddy migrate` runs a dump-restore migration to the end from the terminal: the
// scripted buddy approves the copy and the write pause, --confirm-as confirms the repoint, and the
// live phase (follower, pause, resume) runs in the command's own workers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compareServers } from '../harness/compare.js';
import { scriptedMigrateArgs, writeMigrateConfig } from '../harness/migrate-run.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { fillEveryType } from './copy-fixtures.js';

const PASSWORD = 'dump-restore-cli-secret';

function cli(args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: { ...process.env, LOG_LEVEL: 'silent', CONTROL_REDIS_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('migrate command: dump-restore to the end', () => {
  let control: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let dir: string;
  let config: string;

  before(async () => {
    [control, source, target] = await Promise.all([
      startRedis(),
      startRedis({ password: PASSWORD, configLines: ['notify-keyspace-events KEA'] }),
      startRedis(),
    ]);
    const db = await source.client();
    await fillEveryType(db);
    const pipe = db.pipeline();
    for (let i = 0; i < 2000; i++) pipe.set(`key:${i}`, `value-${i}`);
    await pipe.exec();
    dir = mkdtempSync(join(tmpdir(), 'mb-dump-restore-cli-'));
    config = join(dir, 'config.yml');
    writeMigrateConfig(config, { source, target, control });
  });

  after(async () => {
    await Promise.all([control?.stop(), source?.stop(), target?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('--approve-as approves the gates, --confirm-as confirms the repoint; exit 0 and identical', async (t) => {
    const run = await cli(scriptedMigrateArgs(config, 'dump-restore'));
    const out = run.stdout + run.stderr;
    assert.equal(run.code, 0, out);
    assert.ok(!out.includes(PASSWORD), 'no secret in the output');
    assert.match(run.stdout, /UBUDDY approved "Pause source writes"/);
    assert.match(run.stdout, /UBUDDY confirmed "Repoint the apps"/);
    assert.match(run.stdout, /"Follow changes" succeeded: caught up with the source/);
    const resumed = /"Resume writes" succeeded: source writes resumed after a (\d+) ms pause/.exec(
      run.stdout,
    );
    assert.ok(resumed, run.stdout);
    assert.match(run.stdout, /"Final check and summary" succeeded: identical/);
    assert.match(run.stdout, /migration m[0-9a-z]+ succeeded/);
    assert.deepEqual(await compareServers(source, target), []);
    t.diagnostic(`write pause of ${resumed[1]} ms with an immediate scripted confirmation`);
  });

  it('refuses --confirm-as without --approve-as', async () => {
    const run = await cli(['migrate', 'src', 'dst', '-c', config, '--as', 'UREQ', '--confirm-as', 'UBUDDY']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--confirm-as goes with --approve-as/);
  });
});
