// StepRunner against a real redis-server, without BullMQ: claims, fencing, retries, abort,
// shutdown hand-over and confirmation, driven by calling run() the way deliveries would.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { AuditEvent } from '../../src/runbook/events.js';
import type { StepRef } from '../../src/runbook/model.js';
import { MigrationService, type StepScheduler } from '../../src/runbook/service.js';
import type { ExecutorRegistry } from '../../src/runbook/step-executor.js';
import { type RunResult, StepRunner } from '../../src/runbook/step-runner.js';
import { MigrationStore } from '../../src/runbook/store.js';
import { createLogger } from '../../src/util/logger.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { plannedStep, SETTINGS, testPlan } from '../unit/runbook/fixtures.js';
import { closeTargetClients, endpointsFrom, testRegistry } from './jobs-support/executors.js';

class RecordingScheduler implements StepScheduler {
  readonly refs: StepRef[] = [];
  async enqueue(ref: StepRef): Promise<void> {
    this.refs.push(ref);
  }
}

const logger = createLogger({ level: 'silent' });
let server: RedisServer;
let redis: Redis;
let n = 0;

before(async () => {
  server = await startRedis();
  redis = await server.client();
});
after(async () => {
  closeTargetClients();
  await server.stop();
});

async function setup(steps: Parameters<typeof testPlan>[0], registry: ExecutorRegistry = testRegistry()) {
  const conn = await server.client();
  const store = new MigrationStore(conn, { prefix: `r${n++}` });
  const scheduler = new RecordingScheduler();
  const service = new MigrationService({ store, scheduler, settings: SETTINGS });
  const runner = (workerId: string, leaseMs = 2000, heartbeatMs?: number) =>
    new StepRunner({
      service,
      registry,
      resolveEndpoints: endpointsFrom(server.url),
      workerId,
      leaseMs,
      ...(heartbeatMs ? { heartbeatMs } : {}),
      progressIntervalMs: 50,
      logger,
    });
  const m = await service.create({ source: 'src', target: 'dst', plan: testPlan(steps), requester: 'UREQ' });
  await service.start(m.id, 'UREQ');
  return { service, store, scheduler, runner, m };
}

const types = (events: AuditEvent[]) => events.map((e) => e.type);
const count = (events: AuditEvent[], type: string) => events.filter((e) => e.type === type).length;

async function waitFor(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('step runner', () => {
  it('the same step delivered 20 times at once (to 2 workers) runs once', async () => {
    const { runner, scheduler, m, service } = await setup([plannedStep(1, 'live_sync', false, { ms: 300 })]);
    const ref = scheduler.refs[0]!;
    const a = runner('wa');
    const b = runner('wb');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).run(ref, { finalAttempt: false })),
    );
    const kinds = results.map((r) => r.kind);
    assert.equal(kinds.filter((k) => k === 'succeeded').length, 1, kinds.join(','));
    assert.ok(kinds.every((k) => ['succeeded', 'busy', 'skipped'].includes(k)));
    assert.equal(await redis.get(`runs:${m.id}:${ref.stepId}`), '1');
    const again = await a.run(ref, { finalAttempt: false });
    assert.equal(again.kind, 'skipped');
    const events = await service.events(m.id);
    assert.equal(count(events, 'step_started'), 1);
    assert.equal(count(events, 'step_succeeded'), 1);
    assert.equal((await service.get(m.id))!.status, 'succeeded');
  });

  it('fences out a stalled-but-alive holder: its writes after the takeover are refused', async () => {
    const total = 30;
    const { runner, scheduler, m, service, store } = await setup([
      plannedStep(1, 'bulk_copy', false, { total, tickMs: 40 }),
    ]);
    const ref = scheduler.refs[0]!;
    // A never renews its lease (as if its event loop were stuck), so it lapses after 300 ms.
    const stalled = runner('stalled', 300, 3_600_000);
    const healthy = runner('healthy', 2000);
    const log = `log:${m.id}:${ref.stepId}`;
    const aRun = stalled.run(ref, { finalAttempt: false });
    await waitFor('a few writes by the first holder', async () => (await redis.llen(log)) >= 5);
    await waitFor(
      'its lease to lapse',
      async () => (await store.lease(m.id, ref.stepId)).leaseUntil < (await serverMs()),
    );
    const bRun = healthy.run(ref, { finalAttempt: false });
    const [a, b] = await Promise.all([aRun, bRun]);
    assert.equal(a.kind, 'fenced');
    assert.equal(b.kind, 'succeeded');

    const entries = (await redis.lrange(log, 0, -1)).map((e) => e.split(':').map(Number) as [number, number]);
    const firstOfB = entries.findIndex(([epoch]) => epoch === 2);
    assert.ok(firstOfB > 0);
    assert.ok(entries[firstOfB]![1] > 0, 'the new holder resumed from the checkpoint, not from zero');
    const lateWritesOfA = entries.slice(firstOfB).filter(([epoch]) => epoch === 1).length;
    assert.ok(lateWritesOfA <= 1, `at most the write in flight (${lateWritesOfA})`);
    const covered = new Set(entries.map(([, i]) => i));
    for (let i = 0; i < total; i++) assert.ok(covered.has(i), `item ${i} written`);

    assert.deepEqual(await store.getCheckpoint(m.id, ref.stepId), { next: total });
    const step = (await service.get(m.id))!.steps[0]!;
    assert.equal(step.status, 'succeeded');
    assert.equal(step.epoch, 2);
    assert.deepEqual(step.result, { total, resumedFrom: entries[firstOfB]![1] });
    const events = await service.events(m.id);
    assert.equal(count(events, 'step_succeeded'), 1);
    assert.equal(count(events, 'step_fenced'), 1);
    assert.equal(count(events, 'step_resumed'), 1);
  });

  it('retries transient errors, fails at once on unrecoverable ones, and on the last attempt', async () => {
    const flakyPlan = [plannedStep(1, 'hook', false, { failures: 2 })];
    const { runner, scheduler, m, service, store } = await setup(flakyPlan);
    const ref = scheduler.refs[0]!;
    const w = runner('w');
    assert.equal((await w.run(ref, { finalAttempt: false })).kind, 'retry');
    let step = (await service.get(m.id))!.steps[0]!;
    assert.equal(step.status, 'running');
    assert.match(step.lastError ?? '', /ECONNREFUSED/);
    assert.equal((await store.lease(m.id, ref.stepId)).leaseUntil, 0, 'the lease is released for the retry');
    assert.equal((await w.run(ref, { finalAttempt: false })).kind, 'retry');
    const third = await w.run(ref, { finalAttempt: false });
    assert.equal(third.kind, 'succeeded');
    step = (await service.get(m.id))!.steps[0]!;
    assert.equal(step.attempts, 3);
    assert.deepEqual(types(await service.events(m.id)).slice(3), [
      'step_started',
      'step_retrying',
      'step_resumed',
      'step_retrying',
      'step_resumed',
      'step_succeeded',
      'migration_succeeded',
    ]);

    const auth = await setup(
      [plannedStep(1, 'hook', false)],
      testRegistry({ hook: (await import('./jobs-support/executors.js')).badAuth }),
    );
    const res = await auth.runner('w').run(auth.scheduler.refs[0]!, { finalAttempt: false });
    assert.equal(res.kind, 'failed');
    assert.match((res as { error: string }).error, /WRONGPASS/);
    const failed = (await auth.service.get(auth.m.id))!;
    assert.equal(failed.status, 'failed');
    assert.equal(failed.steps[0]!.attempts, 1);

    const last = await setup([plannedStep(1, 'hook', false, { failures: 5 })]);
    const lastRes = await last.runner('w').run(last.scheduler.refs[0]!, { finalAttempt: true });
    assert.equal(lastRes.kind, 'failed');
    assert.deepEqual(types(await last.service.events(last.m.id)).slice(-2), [
      'step_failed',
      'migration_failed',
    ]);
  });

  it('a failed verdict fails the step with its summary; a person can retry it as a new run', async () => {
    const { differences } = await import('./jobs-support/executors.js');
    const { runner, scheduler, m, service } = await setup(
      [plannedStep(1, 'verify', false)],
      testRegistry({ verify: differences }),
    );
    const res = await runner('w').run(scheduler.refs[0]!, { finalAttempt: false });
    assert.equal(res.kind, 'failed');
    const step = (await service.get(m.id))!.steps[0]!;
    assert.equal(step.status, 'failed');
    assert.equal(step.error, 'verification failed: 3 keys differ');
    assert.deepEqual(step.result, { missing: 3 });
    assert.ok(!(await service.list({ activeOnly: true })).some((x) => x.id === m.id), 'ended: not active');
    const retry = await service.retryStep(m.id, step.id, 'UREQ');
    assert.ok(retry.ok);
    assert.equal(retry.migration.status, 'running');
    assert.ok(
      (await service.list({ activeOnly: true })).some((x) => x.id === m.id),
      'active again',
    );
    assert.deepEqual(scheduler.refs.at(-1), { migrationId: m.id, stepId: step.id, attempt: 2 });
    // A late redelivery of the first run is ignored.
    assert.equal((await runner('w').run(scheduler.refs[0]!, { finalAttempt: false })).kind, 'skipped');
  });

  it('a step can wait for a person to confirm an outside action, then finish', async () => {
    const { runner, scheduler, m, service } = await setup([
      plannedStep(1, 'repoint', false),
      plannedStep(2, 'post_verify', false),
    ]);
    const ref = scheduler.refs[0]!;
    assert.equal((await runner('w').run(ref, { finalAttempt: false })).kind, 'awaiting_confirmation');
    let cur = (await service.get(m.id))!;
    const step = cur.steps[0]!;
    assert.equal(step.status, 'awaiting_approval');
    assert.equal(step.gate, 'confirmation');
    assert.equal(step.gatePrompt, 'repoint the apps to the target');
    const approve = await service.approve(m.id, step.id, 'UAPPROVER1', step.hash);
    assert.equal(!approve.ok && approve.code, 'wrong_gate');
    assert.ok((await service.confirm(m.id, step.id, 'UREQ', step.hash, 'apps on new host')).ok);
    assert.deepEqual(scheduler.refs.at(-1), ref, 'the same run is queued again');
    assert.equal((await runner('w').run(ref, { finalAttempt: false })).kind, 'succeeded');
    assert.equal((await runner('w').run(scheduler.refs.at(-1)!, { finalAttempt: false })).kind, 'succeeded');
    cur = (await service.get(m.id))!;
    assert.equal(cur.status, 'succeeded');
    assert.equal(cur.steps[0]!.summary, 'confirmed by UREQ');
  });

  it('abort stops a running step promptly (flag polled by the heartbeat) and records what it left', async () => {
    const { runner, scheduler, m, service } = await setup([
      plannedStep(1, 'bulk_copy', false, { total: 500, tickMs: 20 }),
      plannedStep(2, 'verify', false),
    ]);
    const ref = scheduler.refs[0]!;
    const run = runner('w', 600, 100).run(ref, { finalAttempt: false });
    await waitFor('progress', async () => (await redis.llen(`log:${m.id}:${ref.stepId}`)) >= 5);
    const aborted = await service.abort(m.id, 'UAPPROVER1', 'stop now');
    assert.ok(aborted.ok);
    assert.equal(aborted.migration.status, 'aborting');
    const t0 = Date.now();
    const res = (await run) as Extract<RunResult, { kind: 'aborted' }>;
    assert.equal(res.kind, 'aborted');
    assert.ok(Date.now() - t0 < 2000, 'stopped within a few heartbeats');
    assert.match(res.state, /^counted to \d+; nothing else changed$/);
    const cur = (await service.get(m.id))!;
    assert.equal(cur.status, 'aborted');
    assert.deepEqual(
      cur.steps.map((s) => s.status),
      ['aborted', 'aborted'],
    );
    const events = await service.events(m.id);
    const stepAborted = events.find((e) => e.type === 'step_aborted')!;
    assert.match(stepAborted.message, /stopped by the abort: counted to/);
    assert.match(events.find((e) => e.type === 'migration_aborted')!.message, /Stopping "bulk_copy step"/);
  });

  it('on shutdown a runner lets go at once and another resumes from the checkpoint without waiting', async () => {
    const { runner, scheduler, m, service } = await setup([
      plannedStep(1, 'bulk_copy', false, { total: 40, tickMs: 20 }),
    ]);
    const ref = scheduler.refs[0]!;
    const first = runner('first', 30_000);
    const run = first.run(ref, { finalAttempt: false });
    await waitFor('progress', async () => (await redis.llen(`log:${m.id}:${ref.stepId}`)) >= 5);
    first.shutdown();
    assert.deepEqual(await run, { kind: 'released', reason: 'shutdown' });
    assert.equal(
      (await first.run(ref, { finalAttempt: false })).kind,
      'released',
      'no new claims while closing',
    );
    const second = await runner('second', 30_000).run(ref, { finalAttempt: false });
    assert.equal(second.kind, 'succeeded', 'no wait for a 30 s lease');
    const starts = await redis.lrange(`starts:${m.id}:${ref.stepId}`, 0, -1);
    assert.equal(starts.length, 2);
    assert.ok(Number(starts[1]!.split(':')[1]) >= 5, `resumed at ${starts[1]}`);
    assert.equal((await service.get(m.id))!.status, 'succeeded');
  });

  it('a delivery of a running step on an aborted migration whose worker died records the abort', async () => {
    const { runner, scheduler, m, service, store } = await setup([
      plannedStep(1, 'bulk_copy', false, { total: 1000, tickMs: 20 }),
    ]);
    const ref = scheduler.refs[0]!;
    // The holder: a lease that lapses fast and a heartbeat that never comes, then we "lose" it.
    const dead = runner('dead', 200, 3_600_000);
    const controller = new AbortController();
    const deadRun = dead.run(ref, { finalAttempt: false, signal: controller.signal });
    await waitFor('progress', async () => (await redis.llen(`log:${m.id}:${ref.stepId}`)) >= 2);
    await service.abort(m.id, 'UREQ');
    await waitFor(
      'lease lapse',
      async () => (await store.lease(m.id, ref.stepId)).leaseUntil < (await serverMs()),
    );
    const res = await runner('other').run(ref, { finalAttempt: false });
    assert.equal(res.kind, 'aborted');
    controller.abort();
    assert.equal((await deadRun).kind, 'fenced', 'the silent holder cannot write its own outcome');
    assert.equal((await service.get(m.id))!.status, 'aborted');
  });
});

async function serverMs(): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}
