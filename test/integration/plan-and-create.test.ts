// The use case "plan and create a migration" through the real CLI and in process, with real
// redis-servers: `plan` shows every step that will run, configured hooks included, numbered as the
// run numbers them, with who may approve each gate; the migration created is exactly that plan;
// `migrate` refuses a buddy who is not an approver and a locked server; `unlock` clears a stale
// lock for an approver only.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/load.js';
import type { Plan } from '../../src/planner/types.js';
import { probeEndpoint } from '../../src/probe/index.js';
import { MigrationService } from '../../src/runbook/service.js';
import { approvalSettingsFromConfig } from '../../src/runbook/settings.js';
import { MigrationStore } from '../../src/runbook/store.js';
import { createPlannedMigration, preparePlan } from '../../src/usecases/plan-migration.js';
import { runCli } from '../harness/cli.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

let source: RedisServer;
let target: RedisServer;
let control: RedisServer;
let dir: string;
let configFile: string;
let redis: Redis;
let service: MigrationService;

const cli = (...args: string[]) => runCli([...args, '--config', configFile]);

before(async () => {
  [source, target, control] = await Promise.all([startRedis(), startRedis(), startRedis()]);
  const s = await source.client(0);
  for (let i = 0; i < 20; i++) await s.set(`k:${i}`, `v${i}`);
  s.disconnect();
  dir = mkdtempSync(join(tmpdir(), 'mb-plan-create-'));
  configFile = join(dir, 'mb.yml');
  writeFileSync(
    configFile,
    `
endpoints:
  src: { url: "redis://127.0.0.1:${source.port}" }
  dst: { url: "redis://127.0.0.1:${target.port}" }
control: { url: "redis://127.0.0.1:${control.port}/0" }
approvers:
  users: [UBOB0001, UCAROL01]
approvals:
  quorum: { bulk_copy: 2 }
hooks:
  maint_on: { command: "true", at: before_cutover, gated: true }
  maint_off: { command: "true", at: after_cutover }
`,
  );
  redis = await control.client();
  const config = loadConfig(configFile);
  service = new MigrationService({
    store: new MigrationStore(redis),
    settings: approvalSettingsFromConfig(config),
  });
});

after(async () => {
  redis?.disconnect();
  await Promise.all([source?.stop(), target?.stop(), control?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('plan and create', () => {
  let planned: Plan;

  test('plan lists every step that will run, hooks included, numbered as the run numbers them', async () => {
    const json = await cli('plan', 'src', 'dst', '--strategy', 'dump-restore', '--json');
    assert.equal(json.code, 0, json.stderr);
    planned = JSON.parse(json.stdout) as Plan & { approvalPolicy: unknown };
    const ids = planned.steps.map((s) => s.id);
    assert.ok(
      ids.some((i) => /-hook-before_cutover-maint_on$/.test(i)),
      ids.join(' '),
    );
    assert.ok(
      ids.some((i) => /-hook-after_cutover-maint_off$/.test(i)),
      ids.join(' '),
    );
    for (const [i, id] of ids.entries()) assert.ok(id.startsWith(`${i + 1}-`), `step ${i + 1} is ${id}`);
    assert.deepEqual((planned as Plan & { approvalPolicy: unknown }).approvalPolicy, {
      approvers: { users: ['UBOB0001', 'UCAROL01'], groups: [] },
      expiresAfterMs: 3_600_000,
      quorum: { bulk_copy: 2 },
    });

    const text = await cli('plan', 'src', 'dst', '--strategy', 'dump-restore', '--buddy', 'UBOB0001');
    assert.equal(text.code, 0, text.stderr);
    const lines = [...text.stdout.matchAll(/^ {2}(\d+)\. (.+?) \[(\S+)\]/gm)];
    assert.deepEqual(
      lines.map((l) => l[3]),
      ids,
      'the text lists the same steps',
    );
    for (const [, n, , id] of lines) assert.ok(id!.startsWith(`${n}-`), `"${n}." shows ${id}`);
    assert.match(
      text.stdout,
      /Copy the keys \[\d+-bulk_copy\] \(needs approval\)\n.*\n {5}Approval: 2 approvals, by the buddy \(UBOB0001\) and another approver\./,
    );
    assert.match(text.stdout, /Run hook maint_on \[\d+-hook-before_cutover-maint_on\] \(needs approval\)/);
    assert.match(text.stdout, /Approval: one approval, by the buddy \(UBOB0001\)\./);
    assert.match(
      text.stdout,
      /Approvers: users UBOB0001, UCAROL01; the buddy UBOB0001 is one of every step's approvals/,
    );
  });

  test('migrate refuses a buddy who is not an approver before anything is created', async () => {
    const run = await cli(
      'migrate',
      'src',
      'dst',
      '--strategy',
      'dump-restore',
      '--as',
      'UREQ',
      '--buddy',
      'U123',
    );
    assert.equal(run.code, 1, run.stderr);
    assert.match(
      run.stderr,
      /the buddy U123 is not one of the configured approvers, and only they may approve/,
    );
    assert.deepEqual(await service.list(), []);
  });

  test('the migration created is the plan shown, step for step', async () => {
    const config = loadConfig(configFile);
    const prepared = await preparePlan(
      {
        source: config.resolvedEndpoints.get('src')!,
        target: config.resolvedEndpoints.get('dst')!,
        options: planned.options,
        hooks: config.hooks,
      },
      (e, o) => probeEndpoint(e, o),
    );
    const m = await createPlannedMigration(service, prepared, { requester: 'UREQ', buddy: 'UBOB0001' });
    const shape = (steps: Plan['steps']) => steps.map((s) => [s.id, s.kind, s.title, s.needsApproval]);
    assert.deepEqual(shape(m.steps), shape(planned.steps));
    assert.deepEqual(
      m.steps.filter((s) => s.needsApproval).map((s) => [s.kind, s.quorum]),
      planned.steps.filter((s) => s.needsApproval).map((s) => [s.kind, s.kind === 'bulk_copy' ? 2 : 1]),
    );
    assert.deepEqual(m.locks, [`127.0.0.1:${source.port}/*`, `127.0.0.1:${target.port}/*`]);

    // While it is active, the CLI cannot start another one on either server, in either direction.
    for (const [from, to] of [
      ['src', 'dst'],
      ['dst', 'src'],
    ]) {
      const run = await cli('migrate', from!, to!, '--strategy', 'dump-restore', '--replace', '--as', 'UREQ');
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, new RegExp(`is in use by migration ${m.id} \\(src -> dst, created`));
    }
    const active = await cli('unlock', 'dst', '--as', 'UCAROL01');
    assert.equal(active.code, 1);
    assert.match(active.stderr, new RegExp(`held by active migration ${m.id}`));
    assert.ok((await service.abort(m.id, 'UREQ')).ok);
    assert.equal((await service.list()).length, 1);
  });

  test('unlock clears a stale lock for an approver only, and says what it cleared', async () => {
    const server = `127.0.0.1:${target.port}`;
    await redis.hset(`mb:lock:${server}`, '*', 'mgone0000001');
    const refused = await cli('migrate', 'src', 'dst', '--strategy', 'dump-restore', '--as', 'UREQ');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /locked by migration mgone0000001, which no longer exists/);
    assert.match(
      refused.stderr,
      new RegExp(`migration-buddy unlock ${server.replace(/\./g, '\\.')} --as <user>`),
    );

    const stranger = await cli('unlock', server, '--as', 'UREQ');
    assert.equal(stranger.code, 1);
    assert.match(stranger.stderr, /only a configured approver can clear a server lock/);
    const cleared = await cli('unlock', server, '--as', 'UCAROL01');
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.match(cleared.stdout, new RegExp(`${server}: cleared ${server}/\\*`));
    assert.equal(await redis.exists(`mb:lock:${server}`), 0);
  });
});
