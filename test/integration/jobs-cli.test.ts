// The migrate, worker and audit commands end to end: real redis-servers (control, source with a
// password, target) and the real CLI in child processes.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openRuntime } from '../../src/jobs/runtime.js';
import { withDefaults } from '../../src/planner/defaults.js';
import { planMigration } from '../../src/planner/plan.js';
import { probeEndpoint } from '../../src/probe/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import type { AuditEvent } from '../../src/runbook/events.js';
import { createLogger } from '../../src/util/logger.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

const PASSWORD = 'jobs-cli-source-secret';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], options: { onOutput?: (text: string, child: ChildProcess) => void } = {}) {
  return new Promise<Run>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: { ...process.env, LOG_LEVEL: 'silent', CONTROL_REDIS_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      options.onOutput?.(stdout + stderr, child);
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      options.onOutput?.(stdout + stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('migrate, worker and audit commands', () => {
  let control: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let dir: string;
  let config: string;
  let configWithApprovers: string;

  before(async () => {
    [control, source, target] = await Promise.all([
      startRedis(),
      startRedis({ password: PASSWORD, configLines: ['notify-keyspace-events KEA'] }),
      startRedis(),
    ]);
    const db = await source.client();
    const pipe = db.pipeline();
    for (let i = 0; i < 300; i++) pipe.set(`key:${i}`, `value-${i}`);
    await pipe.exec();
    dir = mkdtempSync(join(tmpdir(), 'mb-jobs-cli-'));
    const endpoints = [
      'endpoints:',
      '  src:',
      `    url: ${source.url}`,
      '  dst:',
      `    url: ${target.url}`,
      'control:',
      `  url: ${control.url}`,
    ];
    config = join(dir, 'plain.yml');
    writeFileSync(config, `${endpoints.join('\n')}\n`);
    configWithApprovers = join(dir, 'approvers.yml');
    writeFileSync(
      configWithApprovers,
      `${[...endpoints, 'approvers:', '  users: [UAPPROVER]'].join('\n')}\n`,
    );
  });
  after(async () => {
    await Promise.all([control.stop(), source.stop(), target.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('migrate approves at the gates as --approve-as, runs steps in process and prints the audit events', async () => {
    const run = await cli([
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
    ]);
    const out = run.stdout + run.stderr;
    assert.ok(!out.includes(PASSWORD), 'no secret in the output');
    assert.match(run.stderr, /no approvers configured: UBUDDY is the buddy/);
    const id = /migration (m[0-9a-z]+):/.exec(run.stderr)?.[1];
    assert.ok(id, run.stderr);
    assert.match(run.stdout, /UREQ created migration/);
    assert.match(run.stdout, /\[1-preflight\] "Preflight checks" succeeded: source 7\.0\.15 with 300 keys/);
    assert.match(run.stdout, /\[2-bulk_copy\] UBUDDY approved "Copy the keys"/);
    assert.match(run.stdout, /"Copy the keys" succeeded: copied 300 keys/);
    assert.equal(await (await target.client()).dbsize(), 300);
    // The exit code follows the migration's outcome (steps without an executor here fail it).
    const succeeded = /migration .* succeeded/.test(run.stdout);
    assert.equal(run.code, succeeded ? 0 : 1, run.stdout);

    const audit = await cli(['audit', id, '-c', config, '--json']);
    assert.equal(audit.code, 0, audit.stderr);
    // One JSON document: the migration, its status and every event.
    const trail = JSON.parse(audit.stdout) as { migration: string; status: string; events: AuditEvent[] };
    assert.equal(trail.migration, id);
    const { events } = trail;
    assert.deepEqual(
      events.slice(0, 4).map((e) => e.type),
      ['migration_created', 'migration_planned', 'migration_started', 'step_started'],
    );
    assert.ok(events.some((e) => e.type === 'step_approved' && e.actor === 'UBUDDY'));
    assert.ok(events.every((e) => e.migrationId === id && e.at && e.actor));
    assert.ok(!audit.stdout.includes(PASSWORD));
    const human = await cli(['audit', id, '-c', config]);
    assert.equal(human.stdout.trim().split('\n').length, events.length);
    assert.equal((await cli(['audit', 'mnope', '-c', config])).code, 2);
    await (await target.client()).flushall();
  });

  it('migrate refuses the requester as approver, and Ctrl-C aborts the migration', async () => {
    let interrupted = false;
    const run = await cli(
      [
        'migrate',
        'src',
        'dst',
        '-c',
        configWithApprovers,
        '--as',
        'UREQ',
        '--approve-as',
        'UREQ',
        '--strategy',
        'dump-restore',
      ],
      {
        onOutput(text, child) {
          if (!interrupted && /UREQ cannot approve: you requested this migration/.test(text)) {
            interrupted = true;
            child.kill('SIGINT');
          }
        },
      },
    );
    assert.ok(interrupted, run.stdout + run.stderr);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /UREQ aborted the migration \(interrupted on the terminal\)/);
    assert.match(run.stdout, /Completed: "Preflight checks"\. Not run: "Copy the keys"/);
    assert.equal(await (await target.client()).dbsize(), 0, 'nothing was copied');
  });

  it('worker runs steps of migrations whose endpoints it knows and stops cleanly on SIGTERM', async () => {
    const src = parseEndpointUrl(source.url, 'src');
    const dst = parseEndpointUrl(target.url, 'dst');
    const [sp, tp] = await Promise.all([probeEndpoint(src), probeEndpoint(dst)]);
    const plan = planMigration(sp, tp, withDefaults({ strategy: 'dump-restore' }));
    const rt = await openRuntime({
      control: parseEndpointUrl(control.url, 'control'),
      logger: createLogger({ level: 'silent' }),
    });
    let ready = false;
    let worker: ChildProcess | undefined;
    const running = cli(['worker', '-c', config, '--lock-duration', '2s', '--stalled-interval', '2s'], {
      onOutput(text, child) {
        worker = child;
        if (/taking steps from control/.test(text)) ready = true;
      },
    });
    try {
      const m = await rt.service.create({
        source: 'src',
        target: 'dst',
        plan,
        requester: 'UREQ',
        buddy: 'UBUDDY',
      });
      await rt.service.start(m.id, 'UREQ');
      const deadline = Date.now() + 30_000;
      let copied = false;
      while (!copied && Date.now() < deadline) {
        const cur = (await rt.service.get(m.id))!;
        const copy = cur.steps.find((s) => s.kind === 'bulk_copy')!;
        if (copy.status === 'awaiting_approval') await rt.service.approve(m.id, copy.id, 'UBUDDY', copy.hash);
        copied = copy.status === 'succeeded';
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(ready);
      assert.ok(
        copied,
        JSON.stringify((await rt.service.get(m.id))?.steps.map((s) => [s.id, s.status, s.error])),
      );
      assert.equal(await (await target.client()).dbsize(), 300);
      const events = await rt.service.events(m.id);
      const started = events.find((e) => e.type === 'step_started')!;
      assert.match(started.actor, /^worker:/);
    } finally {
      worker?.kill('SIGTERM');
      const res = await running;
      await rt.close();
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /SIGTERM: stopping/);
      assert.match(res.stderr, /stopped/);
    }
  });
});
