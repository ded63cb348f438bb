// The dump-restore executors (preflight, bulk_copy) under the step runner, against real servers:
// a copy handed over mid-way resumes from the fenced checkpoint; a preflight notices a changed world.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { copyKeys } from '../../src/engine/copy/index.js';
import type { CopyCheckpoint } from '../../src/engine/copy/types.js';
import { withDefaults } from '../../src/planner/defaults.js';
import { planMigration } from '../../src/planner/plan.js';
import { probeEndpoint } from '../../src/probe/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import type { StepRef } from '../../src/runbook/model.js';
import { MigrationService, type StepScheduler } from '../../src/runbook/service.js';
import { ExecutorRegistry, type StepExecutor } from '../../src/runbook/step-executor.js';
import { StepRunner } from '../../src/runbook/step-runner.js';
import { MigrationStore } from '../../src/runbook/store.js';
import { bulkCopyExecutor } from '../../src/strategies/dump-restore/index.js';
import { preflightExecutor } from '../../src/strategies/shared/preflight.js';
import { verifyExecutor } from '../../src/strategies/shared/verify.js';
import { createLogger } from '../../src/util/logger.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { plannedStep, testPlan } from '../unit/runbook/fixtures.js';

class RecordingScheduler implements StepScheduler {
  readonly refs: StepRef[] = [];
  async enqueue(ref: StepRef): Promise<void> {
    this.refs.push(ref);
  }
}

// More than the copy engine keeps in flight (8 pages of 1000), so a stop leaves work to resume.
const KEYS = 30_000;
let control: RedisServer;
let source: RedisServer;
let target: RedisServer;
let n = 0;

before(async () => {
  [control, source, target] = await Promise.all([
    startRedis(),
    startRedis({ password: 'dump-restore-src-pw' }),
    startRedis(),
  ]);
  const db = await source.client();
  const pipe = db.pipeline();
  for (let i = 0; i < KEYS; i++) pipe.set(`k:${i}`, `v${i}`);
  await pipe.exec();
});
after(async () => {
  await Promise.all([control.stop(), source.stop(), target.stop()]);
});

async function setup(registry: ExecutorRegistry) {
  const src = parseEndpointUrl(source.url, 'src');
  const dst = parseEndpointUrl(target.url, 'dst');
  const [sp, tp] = await Promise.all([probeEndpoint(src), probeEndpoint(dst)]);
  const plan = planMigration(sp, tp, withDefaults({ strategy: 'dump-restore' }));
  const store = new MigrationStore(await control.client(), { prefix: `d${n++}` });
  const scheduler = new RecordingScheduler();
  const service = new MigrationService({ store, scheduler });
  const m = await service.create({ source: 'src', target: 'dst', plan, requester: 'UREQ', buddy: 'UBUDDY' });
  await service.start(m.id, 'UREQ');
  const runner = (id: string) =>
    new StepRunner({
      service,
      registry,
      resolveEndpoints: () => ({ source: src, target: dst }),
      workerId: id,
      leaseMs: 10_000,
      logger: createLogger({ level: 'silent' }),
    });
  return { service, store, scheduler, runner, m };
}

describe('dump-restore executors', () => {
  it('bulk_copy handed over after its first checkpoint resumes there on another worker', async (t) => {
    let handOver: (() => void) | undefined;
    // bulk_copy as it is, except that the first saved checkpoint triggers a shutdown of its worker.
    const handingOver: StepExecutor = {
      run: (ctx) =>
        bulkCopyExecutor.run({
          ...ctx,
          saveCheckpoint: async (cp) => {
            await ctx.saveCheckpoint(cp);
            if ((cp as CopyCheckpoint).counters.keysCopied > 0) {
              handOver?.();
              handOver = undefined;
            }
          },
        }),
    };
    t.after(async () => {
      await (await target.client()).flushall();
    });
    const registryA = new ExecutorRegistry()
      .register('preflight', preflightExecutor({ plan: planMigration }))
      .register('bulk_copy', handingOver);
    const { service, store, scheduler, runner, m } = await setup(registryA);
    const first = runner('first');
    assert.equal(
      (await first.run(scheduler.refs[0]!, { finalAttempt: false })).kind,
      'succeeded',
      'preflight',
    );
    const copy = (await service.get(m.id))!.steps.find((s) => s.kind === 'bulk_copy')!;
    assert.equal(copy.status, 'awaiting_approval');
    assert.ok((await service.approve(m.id, copy.id, 'UBUDDY', copy.hash)).ok);
    const ref = scheduler.refs.at(-1)!;
    handOver = () => first.shutdown();
    assert.deepEqual(await first.run(ref, { finalAttempt: false }), { kind: 'released', reason: 'shutdown' });
    const cp = (await store.getCheckpoint(m.id, copy.id)) as CopyCheckpoint;
    assert.ok(
      cp.counters.keysCopied > 0 && cp.counters.keysCopied < KEYS,
      `checkpoint at ${cp.counters.keysCopied}`,
    );
    assert.equal(cp.complete, false);

    const registryB = new ExecutorRegistry().register('bulk_copy', bulkCopyExecutor);
    const second = new StepRunner({
      service,
      registry: registryB,
      resolveEndpoints: () => ({
        source: parseEndpointUrl(source.url, 'src'),
        target: parseEndpointUrl(target.url, 'dst'),
      }),
      workerId: 'second',
      leaseMs: 10_000,
      logger: createLogger({ level: 'silent' }),
    });
    const res = await second.run(ref, { finalAttempt: false });
    assert.equal(res.kind, 'succeeded');
    const done = (await service.get(m.id, { checkpoints: true }))!.steps.find((s) => s.id === copy.id)!;
    assert.match(done.summary ?? '', /resumed from a checkpoint/);
    assert.ok(Number(done.result?.keysCopied) >= KEYS);
    assert.equal(await (await target.client()).dbsize(), KEYS);
    assert.equal((done.checkpoint as CopyCheckpoint).complete, true);
    const events = await service.events(m.id);
    assert.ok(events.some((e) => e.type === 'step_resumed' && e.actor === 'worker:second'));
    // No password anywhere in what was stored.
    const raw = JSON.stringify(await (await control.client()).xrange(store.key(m.id, 'events'), '-', '+'));
    assert.ok(!raw.includes('dump-restore-src-pw'));
  });

  it('preflight fails the step when the servers no longer fit the plan', async () => {
    const registry = new ExecutorRegistry().register('preflight', preflightExecutor({ plan: planMigration }));
    const { service, scheduler, runner, m } = await setup(registry);
    const t = await target.client();
    await t.set('someone-else', 'was here');
    try {
      const res = await runner('w').run(scheduler.refs[0]!, { finalAttempt: false });
      assert.equal(res.kind, 'failed');
      const step = (await service.get(m.id))!.steps[0]!;
      assert.match(step.error ?? '', /^the plan no longer holds: .*/);
      assert.match(step.error ?? '', /not empty|holds/);
    } finally {
      await t.flushall();
    }
  });

  it('verify passes an identical copy and fails, with an audited summary, when keys are missing', async (t) => {
    const src = parseEndpointUrl(source.url, 'src');
    const dst = parseEndpointUrl(target.url, 'dst');
    const tc = await target.client();
    t.after(() => tc.flushall());
    await copyKeys(src, dst, { dbs: [0], onNonEmptyTarget: 'refuse' });
    const params = {
      dbs: [0],
      compare: 'counts-and-sample',
      sampleSize: 500,
      countTolerancePercent: 0,
      ttlToleranceMs: 100,
    };
    const registry = new ExecutorRegistry().register('verify', verifyExecutor);
    const runVerify = async () => {
      const store = new MigrationStore(await control.client(), { prefix: `d${n++}` });
      const scheduler = new RecordingScheduler();
      const service = new MigrationService({ store, scheduler });
      const plan = testPlan([plannedStep(1, 'verify', false, params)]);
      const m = await service.create({
        source: 'src',
        target: 'dst',
        plan,
        requester: 'UREQ',
        buddy: 'UBUDDY',
      });
      await service.start(m.id, 'UREQ');
      const runner = new StepRunner({
        service,
        registry,
        resolveEndpoints: () => ({ source: src, target: dst }),
        workerId: 'v',
        leaseMs: 10_000,
        logger: createLogger({ level: 'silent' }),
      });
      const res = await runner.run(scheduler.refs[0]!, { finalAttempt: false });
      return { res, step: (await service.get(m.id))!.steps[0]!, events: await service.events(m.id) };
    };
    const ok = await runVerify();
    assert.equal(ok.res.kind, 'succeeded');
    assert.match(ok.step.summary ?? '', /^identical: \d+ keys checked \(sampled\)$/);
    assert.equal(ok.events.filter((e) => e.type === 'verification').length, 1);

    await tc.del('k:1', 'k:2', 'k:3');
    const bad = await runVerify();
    assert.equal(bad.res.kind, 'failed');
    assert.equal(bad.step.status, 'failed');
    assert.match(
      bad.step.error ?? '',
      /^verification failed: .*count differs \(db 0: 30000 keys on the source, 29997 on the target\)/,
    );
    const audited = bad.events.find((e) => e.type === 'verification')!;
    assert.match(audited.message, /verification failed/);
    assert.equal(bad.step.attempts, 1, 'no retries for differences');
  });
});
