// The BullMQ layer with real workers (in this process) on a real redis-server: a migration through
// every gate, idempotent enqueue, retries with backoff, unrecoverable failures, approval expiry by
// the sweeper, and abort of a running step through pub/sub.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import {
  openRuntime,
  type Runtime,
  startWorkers,
  stepJobState,
  type WorkerPool,
} from '../../src/jobs/runtime.js';
import type { JobTiming } from '../../src/jobs/timing.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import type { ApprovalSettings } from '../../src/runbook/approval-policy.js';
import type { AuditEvent } from '../../src/runbook/events.js';
import type { ProgressUpdate } from '../../src/runbook/model.js';
import type { ExecutorRegistry } from '../../src/runbook/step-executor.js';
import { createLogger } from '../../src/util/logger.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { plannedStep, SETTINGS, testPlan } from '../unit/runbook/fixtures.js';
import { badAuth, closeTargetClients, endpointsFrom, testRegistry } from './jobs-support/executors.js';

const logger = createLogger({ level: 'silent' });
let server: RedisServer;
let redis: Redis;
let n = 0;
const toClose: (() => Promise<unknown>)[] = [];

before(async () => {
  server = await startRedis();
  redis = await server.client();
});
after(async () => {
  for (const close of toClose.reverse()) await close();
  closeTargetClients();
  await server.stop();
});

const FAST: Partial<JobTiming> = {
  lockDurationMs: 2000,
  stalledIntervalMs: 2000,
  backoffMs: 50,
  sweepIntervalMs: 60_000,
  progressIntervalMs: 50,
  shutdownTimeoutMs: 5000,
};

async function runtime(
  options: {
    timing?: Partial<JobTiming>;
    settings?: ApprovalSettings;
    registry?: ExecutorRegistry;
    workers?: boolean;
  } = {},
): Promise<{ rt: Runtime; pool?: WorkerPool }> {
  const rt = await openRuntime({
    control: parseEndpointUrl(server.url, 'control'),
    logger,
    prefix: `j${n++}`,
    settings: options.settings ?? SETTINGS,
    timing: { ...FAST, ...options.timing },
  });
  let pool: WorkerPool | undefined;
  if (options.workers !== false) {
    pool = await startWorkers(rt, {
      registry: options.registry ?? testRegistry(),
      resolveEndpoints: endpointsFrom(server.url),
      sweeper: options.timing?.sweepIntervalMs !== undefined,
    });
  }
  toClose.push(async () => {
    await pool?.close();
    await rt.close();
  });
  return { rt, ...(pool ? { pool } : {}) };
}

async function until<T>(what: string, get: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const ofType = (events: AuditEvent[], type: string) => events.filter((e) => e.type === type);

describe('jobs: step jobs on BullMQ', () => {
  it('runs a migration through every gate; no job is active while a person decides', async () => {
    const settings = { ...SETTINGS, quorum: { promote: 2 } };
    const { rt } = await runtime({ settings });
    const { service } = rt;
    const plan = testPlan([
      plannedStep(1, 'preflight', false),
      plannedStep(2, 'bulk_copy', true, { total: 20, tickMs: 10 }),
      plannedStep(3, 'verify', false),
      plannedStep(4, 'repoint', false),
      plannedStep(5, 'promote', true),
      plannedStep(6, 'post_verify', false),
    ]);
    const progress: ProgressUpdate[] = [];
    const progressSub = await service.subscribeProgress((p) => progress.push(p));
    const m = await service.create({ source: 'src', target: 'dst', plan, requester: 'UREQ' });
    const seen: AuditEvent[] = [];
    const gatesIdle: boolean[] = [];
    const tail = service.tailEvents(m.id, async (e) => {
      seen.push(e);
      if (e.type === 'approval_requested' || e.type === 'confirmation_requested') {
        // The job that led here completes a moment after committing; then nothing may stay active.
        const idle = await until(
          'idle queue',
          async () => (await rt.queue.queue.getActiveCount()) === 0,
          3000,
        )
          .then(() => new Promise((r) => setTimeout(r, 200)))
          .then(async () => (await rt.queue.queue.getActiveCount()) === 0)
          .catch(() => false);
        gatesIdle.push(idle);
        const hash = String(e.data?.stepHash);
        if (e.type === 'confirmation_requested') {
          await service.confirm(m.id, e.stepId!, 'UREQ', hash);
        } else {
          await service.approve(m.id, e.stepId!, 'UAPPROVER1', hash);
          if (e.stepKind === 'promote') await service.approve(m.id, e.stepId!, 'UAPPROVER2', hash);
        }
      }
    });
    try {
      assert.ok((await service.start(m.id, 'UREQ')).ok);
      const done = await until('migration end', async () => {
        const cur = await service.get(m.id);
        return cur && ['succeeded', 'failed', 'aborted'].includes(cur.status) && cur;
      });
      assert.equal(
        done.status,
        'succeeded',
        JSON.stringify(done.steps.map((s) => [s.id, s.status, s.error])),
      );
      // Each step ran once; the repoint step twice by design (ask, then finish after the confirmation).
      assert.deepEqual(
        done.steps.map((s) => s.attempts),
        [1, 1, 1, 2, 1, 1],
      );
      for (const id of ['1-preflight', '3-verify', '5-promote', '6-post-verify']) {
        assert.equal(await redis.get(`runs:${m.id}:${id}`), '1', id);
      }
      assert.deepEqual(gatesIdle, [true, true, true], 'two approvals and a confirmation, with no active job');
      await until('all events', async () => seen.some((e) => e.type === 'migration_succeeded'));
      const flow = seen
        .map((e) => `${e.type}${e.stepId ? `:${e.stepId}` : ''}`)
        .filter((t) => !t.startsWith('step_started') && !t.startsWith('approval_recorded'));
      assert.deepEqual(flow, [
        'migration_created',
        'migration_planned',
        'migration_started',
        'step_succeeded:1-preflight',
        'approval_requested:2-bulk-copy',
        'step_approved:2-bulk-copy',
        'step_succeeded:2-bulk-copy',
        'verification:3-verify',
        'step_succeeded:3-verify',
        'confirmation_requested:4-repoint',
        'step_confirmed:4-repoint',
        'step_succeeded:4-repoint',
        'approval_requested:5-promote',
        'step_approved:5-promote',
        'step_succeeded:5-promote',
        'step_succeeded:6-post-verify',
        'migration_succeeded',
      ]);
      assert.equal(
        ofType(seen, 'step_approved')
          .find((e) => e.stepKind === 'promote')
          ?.data?.approvers?.toString(),
        'UAPPROVER1,UAPPROVER2',
      );
      // Progress of the copy was published (throttled) and the last value kept.
      assert.ok(progress.some((p) => p.stepId === '2-bulk-copy'));
      const kept = await service.progress(m.id);
      assert.equal(kept['2-bulk-copy']?.keysDone, 20);
      assert.ok(progress.length < 60, `bounded rate (${progress.length} updates)`);
      // The audit list is the same stream the tail read.
      assert.deepEqual(
        (await service.events(m.id)).map((e) => e.id),
        seen.map((e) => e.id),
      );
    } finally {
      await tail.close();
      await progressSub.close();
    }
  });

  it('enqueuing the same step run 25 times adds one job and runs it once, even after it finished', async () => {
    const { rt } = await runtime({ workers: false });
    const plan = testPlan([plannedStep(1, 'live_sync', false, { ms: 100 })]);
    const m = await rt.service.create({ source: 's', target: 't', plan, requester: 'UREQ' });
    await rt.service.start(m.id, 'UREQ');
    const ref = { migrationId: m.id, stepId: '1-live-sync', attempt: 1 };
    await Promise.all(Array.from({ length: 25 }, () => rt.queue.enqueue(ref)));
    const counts = await rt.queue.queue.getJobCounts('waiting', 'active', 'delayed', 'completed');
    assert.deepEqual(counts, { waiting: 1, active: 0, delayed: 0, completed: 0 });
    const pool = await startWorkers(rt, {
      registry: testRegistry(),
      resolveEndpoints: endpointsFrom(server.url),
      sweeper: false,
    });
    try {
      await until('success', async () => (await rt.service.get(m.id))?.status === 'succeeded');
      await until('job completed', async () => (await stepJobState(rt, ref)) === 'completed');
      await Promise.all(Array.from({ length: 5 }, () => rt.queue.enqueue(ref)));
      await until('re-added job completed', async () => (await stepJobState(rt, ref)) === 'completed');
      assert.equal(await redis.get(`runs:${m.id}:1-live-sync`), '1');
      assert.equal(ofType(await rt.service.events(m.id), 'step_succeeded').length, 1);
    } finally {
      await pool.close();
    }
  });

  it('retries a transient error with backoff, and fails an unrecoverable one at once', async () => {
    const { rt } = await runtime();
    const flakyPlan = testPlan([plannedStep(1, 'hook', false, { failures: 2 })]);
    const m = await rt.service.create({ source: 's', target: 't', plan: flakyPlan, requester: 'UREQ' });
    await rt.service.start(m.id, 'UREQ');
    await until('success', async () => (await rt.service.get(m.id))?.status === 'succeeded');
    assert.equal(await redis.get(`tries:${m.id}:1-hook`), '3');
    const events = await rt.service.events(m.id);
    assert.equal(ofType(events, 'step_retrying').length, 2);
    const job = await rt.queue.queue.getJob(`mb-${m.id}-1-hook-a1`);
    assert.equal(job?.attemptsMade, 3, 'two failed attempts, then the successful one');

    const { rt: rt2 } = await runtime({ registry: testRegistry({ hook: badAuth }) });
    const m2 = await rt2.service.create({
      source: 's',
      target: 't',
      plan: testPlan([plannedStep(1, 'hook', false)]),
      requester: 'UREQ',
    });
    await rt2.service.start(m2.id, 'UREQ');
    const failed = await until('failure', async () => {
      const cur = await rt2.service.get(m2.id);
      return cur?.status === 'failed' && cur;
    });
    assert.match(failed.steps[0]!.error ?? '', /WRONGPASS/);
    const ref = { migrationId: m2.id, stepId: '1-hook', attempt: 1 };
    await until('job failed', async () => (await stepJobState(rt2, ref)) === 'failed');
    assert.equal(await redis.get(`tries:${m2.id}:1-hook`), '1', 'no retries');
    const job2 = await rt2.queue.queue.getJob(`mb-${m2.id}-1-hook-a1`);
    assert.match(job2?.failedReason ?? '', /WRONGPASS/);
    assert.equal(job2?.attemptsMade, 1);
  });

  it('the sweeper expires approval requests that nobody answered', async () => {
    const { rt } = await runtime({
      settings: { ...SETTINGS, expiresAfterMs: 300 },
      timing: { sweepIntervalMs: 200 },
    });
    const m = await rt.service.create({
      source: 's',
      target: 't',
      plan: testPlan([plannedStep(1, 'promote', true)]),
      requester: 'UREQ',
    });
    await rt.service.start(m.id, 'UREQ');
    await until('expiry', async () => (await rt.service.get(m.id))?.status === 'expired');
    const events = await rt.service.events(m.id);
    assert.equal(ofType(events, 'approval_expired').length, 1);
    assert.equal(ofType(events, 'approval_expired')[0]!.actor, 'system');
  });

  it('abort reaches a running step through pub/sub and stops it promptly', async () => {
    // A 60 s lease means heartbeats every 20 s: only the pub/sub message can stop it quickly.
    const { rt } = await runtime({ timing: { lockDurationMs: 60_000, stalledIntervalMs: 60_000 } });
    const m = await rt.service.create({
      source: 's',
      target: 't',
      plan: testPlan([
        plannedStep(1, 'bulk_copy', false, { total: 100_000, tickMs: 10 }),
        plannedStep(2, 'verify', false),
      ]),
      requester: 'UREQ',
    });
    await rt.service.start(m.id, 'UREQ');
    const log = `log:${m.id}:1-bulk-copy`;
    await until('progress', async () => (await redis.llen(log)) >= 10);
    const res = await rt.service.abort(m.id, 'UAPPROVER1');
    assert.ok(res.ok);
    const atAbort = await redis.llen(log);
    const done = await until(
      'aborted',
      async () => {
        const cur = await rt.service.get(m.id);
        return cur?.status === 'aborted' && cur;
      },
      10_000,
    );
    const after = await redis.llen(log);
    assert.ok(after - atAbort < 50, `stopped within a few ticks (${after - atAbort} more writes)`);
    assert.match(done.steps[0]!.summary ?? '', /^counted to \d+; nothing else changed$/);
    assert.equal(done.steps[1]!.status, 'aborted');
    assert.equal(await redis.get(`runs:${m.id}:2-verify`), null, 'the next step never ran');
  });
});
