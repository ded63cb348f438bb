// The plan command end to end: real redis-servers, the real CLI in a child process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Plan } from '../../src/planner/types.js';
import { freePort, type RedisServer, startRedis } from '../harness/redis-server.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: { ...process.env, LOG_LEVEL: 'silent' },
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

function planOf(run: Run): Plan {
  try {
    return JSON.parse(run.stdout) as Plan;
  } catch {
    throw new Error(`not JSON (exit ${run.code}): ${run.stdout}\n${run.stderr}`);
  }
}

const SOURCE_PASSWORD = 'plan-cli-source-pw';

describe('migration-buddy plan', () => {
  let source: RedisServer;
  let managed: RedisServer; // REPLICAOF renamed away, like a managed service
  let plain: RedisServer;

  before(async () => {
    [source, managed, plain] = await Promise.all([
      startRedis({ password: SOURCE_PASSWORD }),
      startRedis({ configLines: ['rename-command REPLICAOF ""'] }),
      startRedis(),
    ]);
    const db0 = await source.client(0);
    for (let i = 0; i < 50; i++) await db0.set(`user:${i}`, `v${i}`);
    await db0.set('session:1', 'x', 'EX', 3600);
    const db2 = await source.client(2);
    await db2.hset('h', { a: '1', b: '2' });
  });

  after(async () => {
    await Promise.all([source?.stop(), managed?.stop(), plain?.stop()]);
  });

  test('managed target without REPLICAOF: psync, replication ruled out with the probe reason, exit 0', async () => {
    const run = await cli('plan', source.url, managed.url, '--json');
    assert.equal(run.code, 0, run.stderr);
    const plan = planOf(run);
    // The source allows PSYNC to the tool's user: the tool replicates it.
    assert.equal(plan.strategy, 'psync');
    assert.match(
      plan.because ?? '',
      /^replication is ruled out \(REPLICAOF is not available on target.*source allows PSYNC/,
    );
    assert.deepEqual(plan.blockers, []);
    const replication = plan.assessments.find((a) => a.strategy === 'replication')!;
    assert.equal(replication.viable, false);
    assert.ok(
      replication.reasons.includes(
        'REPLICAOF is not available on target: unknown command (renamed or disabled)',
      ),
      JSON.stringify(replication.reasons),
    );
    assert.equal(plan.estimates.keys, 52);
    assert.deepEqual(plan.steps[0]!.params.dbs, [0, 2]);
    assert.equal(plan.steps[0]!.id, '1-preflight');
    assert.equal(plan.liveSync, null, 'psync follows the replication stream, not notifications');
    assert.ok(!run.stdout.includes(SOURCE_PASSWORD), 'no password in the output');
    // CONFIG SET works on this source, so dump-restore's live sync turns notifications on.
    const dump = planOf(await cli('plan', source.url, managed.url, '--strategy', 'dump-restore', '--json'));
    assert.equal(dump.strategy, 'dump-restore');
    assert.equal(dump.liveSync, 'enable-notifications');
  });

  test('two plain servers: replication, exit 0', async () => {
    const run = await cli('plan', source.url, plain.url, '--json');
    assert.equal(run.code, 0, run.stderr);
    const plan = planOf(run);
    assert.equal(plan.strategy, 'replication');
    assert.deepEqual(
      plan.steps.filter((s) => s.needsApproval).map((s) => s.kind),
      ['start_replication', 'make_writable', 'promote'],
    );
    assert.equal(plan.steps.find((s) => s.kind === 'start_replication')!.params.setMasterauth, true);
  });

  test('asking for replication where it is not possible: blocked, exit 1', async () => {
    const run = await cli('plan', source.url, managed.url, '--strategy', 'replication', '--json');
    assert.equal(run.code, 1);
    const plan = planOf(run);
    assert.equal(plan.strategy, null);
    assert.match(plan.blockers[0]!.message, /^replication was asked for but is not possible: REPLICAOF/);
  });

  test('a non-empty target: exit 1 without --replace, 0 with it', async () => {
    const t = await managed.client(0);
    await t.set('user:1', 'already here');
    try {
      const refused = await cli('plan', source.url, managed.url, '--json');
      assert.equal(refused.code, 1);
      const plan = planOf(refused);
      assert.equal(plan.strategy, null);
      assert.equal(plan.candidate, 'psync');
      assert.deepEqual(
        plan.blockers.map((b) => b.code),
        ['target-not-empty'],
      );
      assert.match(plan.blockers[0]!.message, /--replace.*--flush-target/);

      const replaced = await cli('plan', source.url, managed.url, '--replace', '--json');
      assert.equal(replaced.code, 0, replaced.stdout);
      const replacedPlan = planOf(replaced);
      assert.equal(replacedPlan.strategy, 'psync');
      assert.equal(
        replacedPlan.steps.find((s) => s.kind === 'bulk_copy')!.params.onNonEmptyTarget,
        'replace',
      );

      // Only db 2 is copied, and the target's db 2 is empty: nothing to refuse.
      const other = await cli('plan', source.url, managed.url, '--db', '2', '--json');
      assert.equal(other.code, 0, other.stdout);
      assert.deepEqual(planOf(other).options.dbs, [2]);
    } finally {
      await t.flushall();
    }
  });

  test('human output: plain text with the strategy, the reasons and the steps; no password', async () => {
    const run = await cli('plan', source.url, managed.url, '--big-keys');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Strategy: psync$/m);
    assert.match(run.stdout, /^Why: replication is ruled out .*source allows PSYNC: the tool replicates it/m);
    assert.match(run.stdout, /REPLICAOF is not available on target: unknown command \(renamed or disabled\)/);
    assert.match(run.stdout, /\[2-bulk_copy\] \(needs approval\)/);
    assert.ok(!run.stdout.includes(SOURCE_PASSWORD));
    assert.doesNotMatch(run.stdout, /\x1b\[/);
  });

  test('bad input exits 2 with a clear error', async () => {
    const both = await cli('plan', source.url, managed.url, '--replace', '--flush-target', '--json');
    assert.equal(both.code, 2);
    assert.match(JSON.parse(both.stdout).error, /--replace and --flush-target exclude each other/);

    const badDb = await cli('plan', source.url, managed.url, '--db', '0,x');
    assert.equal(badDb.code, 2);
    assert.match(badDb.stderr, /--db must be "all" or database numbers separated by commas/);

    const badStrategy = await cli('plan', source.url, managed.url, '--strategy', 'rsync');
    assert.equal(badStrategy.code, 2);
    assert.match(
      badStrategy.stderr,
      /option '--strategy <name>' argument is invalid\. Allowed choices are auto, /,
    );
    assert.doesNotMatch(badStrategy.stderr, /rsync/, 'the typed value is not repeated');
  });

  test('an unreachable server exits 2', async () => {
    const port = await freePort();
    const run = await cli('plan', source.url, `redis://127.0.0.1:${port}`, '--json');
    assert.equal(run.code, 2);
    assert.match(JSON.parse(run.stdout).error, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.ok(!run.stdout.includes(SOURCE_PASSWORD));
  });
});
