// The replication strategy's executors in the planned order against real servers: a source with
// requirepass and an ACL user for the link, two databases, keys with TTLs; the target follows,
// is made writable, the apps move, nobody is left, the target is promoted and every setting the
// migration changed is back to what it was.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { withDefaults } from '../../src/planner/defaults.js';
import { planMigration } from '../../src/planner/plan.js';
import { probeEndpoint } from '../../src/probe/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import type { StepRef } from '../../src/runbook/model.js';
import { MigrationService, type StepScheduler } from '../../src/runbook/service.js';
import { ExecutorRegistry } from '../../src/runbook/step-executor.js';
import { StepRunner } from '../../src/runbook/step-runner.js';
import { MigrationStore } from '../../src/runbook/store.js';
import { AppWriteRecord, AppWriteWatches } from '../../src/strategies/app-writes/index.js';
import { createLogger } from '../../src/util/logger.js';
import { freePort, type RedisServer, startRedis } from '../harness/redis-server.js';
import { registerStrategy } from '../harness/step-executors.js';
import { RunbookHarness } from './replication-support.js';

const SOURCE_ADMIN_PW = 'flow-admin-pw-1234';
const REPL_PW = 'flow-repl-pw-5678';
let source: RedisServer;
let target: RedisServer;
let control: RedisServer;

const options = {
  pollIntervalMs: 100,
  linkTimeoutMs: 8000,
  lagTimeoutMs: 5000,
  drainPollMs: 100,
  drainTimeoutMs: 3000,
  verify: { recheckDelayMs: 50 },
};

before(async () => {
  [source, target, control] = await Promise.all([
    startRedis({
      password: SOURCE_ADMIN_PW,
      configLines: [`user repl on >${REPL_PW} ~* &* +@all`, 'repl-diskless-sync-delay 0'],
    }),
    startRedis(),
    startRedis(),
  ]);
  const db0 = await source.client(0);
  const db1 = await source.client(1);
  const p0 = db0.pipeline();
  for (let i = 0; i < 500; i++) p0.set(`user:${i}`, `v${i}`);
  for (let i = 0; i < 50; i++) p0.set(`session:${i}`, `s${i}`, 'PX', 600_000);
  p0.hset('h', { a: '1', b: '2' });
  await p0.exec();
  const p1 = db1.pipeline();
  for (let i = 0; i < 100; i++) p1.sadd(`set:${i}`, 'x', 'y', String(i));
  p1.set('ttl-in-db1', 'x', 'EX', 3600);
  await p1.exec();
  // Connections left open count as apps still on the source in the drain check.
  db0.disconnect();
  db1.disconnect();
});
after(async () => {
  await Promise.all([source.stop(), target.stop(), control.stop()]);
});

async function config(name: string): Promise<string> {
  const c = await target.client();
  return ((await c.call('CONFIG', 'GET', name)) as string[])[1]!;
}

describe('replication runbook', () => {
  it('runs every step in order and leaves a promoted target with its settings restored', async () => {
    const src = parseEndpointUrl(source.urlFor('repl', REPL_PW), 'old');
    const dst = parseEndpointUrl(target.url, 'new');
    const [sp, tp] = await Promise.all([probeEndpoint(src), probeEndpoint(dst)]);
    const plan = planMigration(sp, tp, withDefaults({ strategy: 'replication' }));
    assert.equal(plan.strategy, 'replication', JSON.stringify(plan.blockers));
    // The record of writes on the target from make_writable on, as workers keep it.
    const record = new AppWriteRecord(new MigrationStore(await control.client(), { prefix: 'repl-flow' }));
    const appWrites = { record, watches: new AppWriteWatches(record, 'repl-flow-test') };
    const registry = registerStrategy(new ExecutorRegistry(), 'replication', options, {
      appWrites: () => appWrites,
    });
    const h = new RunbookHarness(plan, { source: src, target: dst }, registry);
    const before = { ro: await config('replica-read-only'), tls: await config('tls-replication') };

    const kinds = plan.steps.map((s) => s.kind);
    assert.deepEqual(kinds, [
      'preflight',
      'start_replication',
      'wait_sync',
      'verify',
      'make_writable',
      'repoint',
      'drain_check',
      'promote',
      'post_verify',
    ]);
    const ok = async (kind: string, control = {}) => {
      const r = await h.run(kind, control);
      assert.ifError(r.error);
      assert.notEqual(r.outcome?.verdict, 'failed', `${kind}: ${r.outcome?.summary}`);
      return r;
    };

    await ok('preflight');
    const start = await ok('start_replication');
    assert.deepEqual((start.outcome!.result!.changed as string[]).sort(), ['masterauth', 'masteruser']);
    assert.equal(await config('masteruser'), 'repl');
    // The remembered originals never hold a password.
    assert.ok(!JSON.stringify(h.step('start_replication').result).includes(REPL_PW));
    // Run again as after a crash: the settings are changed by now, the recorded originals stay.
    const again = await ok('start_replication');
    assert.equal(again.outcome!.result!.alreadyAttached, true);
    assert.deepEqual((again.outcome!.result!.record as { originals: unknown }).originals, {
      masteruser: '',
      masterauth: '',
    });

    const sync = await ok('wait_sync');
    assert.match(sync.outcome!.summary, /in sync/);
    assert.ok(
      sync.progress.some((p) => p.message?.includes('db1')),
      'progress shows keys per db',
    );
    const tc1 = await target.client(1);
    assert.ok((await tc1.pttl('ttl-in-db1')) > 3_000_000, 'TTL replicated');

    const verify = await ok('verify');
    assert.equal(verify.outcome!.verdict, 'ok');
    assert.equal(verify.outcome!.result!.lagBytes, 0);
    assert.ok(h.events.some((e) => e.type === 'verification'));

    await ok('make_writable');
    assert.equal(await config('replica-read-only'), 'no');
    // An app already repointed to the target can write while the source still replicates in.
    const t0 = await target.client(0);
    await t0.set('written-on-target', '1');
    const s0 = await source.client(0);
    await s0.set('still-on-source', '1');
    s0.disconnect();

    const repoint = await ok('repoint');
    assert.ok(repoint.outcome!.awaitConfirmation, 'without a hook a person confirms');
    await ok('repoint', { confirmedBy: 'UBUDDY' });

    // An app still on the source holds up the drain check until it leaves.
    const app = await source.client(0, { connectionName: 'orders-api' });
    await app.ping();
    setTimeout(() => app.disconnect(), 600);
    const drain = await ok('drain_check');
    assert.ok(
      drain.progress.some((p) => p.message?.includes('orders-api')),
      'the remaining app was listed by name',
    );
    assert.deepEqual(drain.outcome!.result!.clientsStillConnected, []);

    const promote = await ok('promote');
    assert.match(promote.outcome!.summary, /standalone primary/);
    const info = (await t0.info('replication')) as string;
    assert.match(info, /role:master/);
    assert.equal(await t0.get('still-on-source'), '1', 'writes made before the promote arrived');
    assert.equal(await config('masteruser'), '');
    assert.equal(await config('masterauth'), '');
    assert.equal(await config('replica-read-only'), before.ro);
    assert.equal(await config('tls-replication'), before.tls);

    // The key written on the target after make_writable is only there: an app's write, recorded as
    // such, so a sample that finds it does not count it as a difference.
    const post = await ok('post_verify');
    assert.equal(post.outcome!.verdict, 'ok', post.outcome!.summary);
    const apps = post.outcome!.result!.appWrites as { complete: boolean; recordedKeys: number };
    assert.equal(apps.complete, true, JSON.stringify(apps));
    assert.ok(apps.recordedKeys >= 1, 'written-on-target was recorded');
    assert.ok(Array.isArray(post.outcome!.result!.counts));
  });
});

class RecordingScheduler implements StepScheduler {
  readonly refs: StepRef[] = [];
  async enqueue(ref: StepRef): Promise<void> {
    this.refs.push(ref);
  }
}

describe('replication under the step runner', () => {
  it('an abort while start waits for the link is recorded with what the cleanup left', async () => {
    const src = parseEndpointUrl(source.urlFor('repl', REPL_PW), 'old');
    const dst = parseEndpointUrl(target.url, 'new');
    const tc = await target.client();
    await tc.flushall();
    const [sp, tp] = await Promise.all([probeEndpoint(src), probeEndpoint(dst)]);
    const plan = planMigration(sp, tp, withDefaults({ strategy: 'replication' }));
    const closed = await freePort();
    const registry = registerStrategy(new ExecutorRegistry(), 'replication', {
      ...options,
      linkTimeoutMs: 30_000,
      replicaOfAddress: () => ({ host: '127.0.0.1', port: closed }),
    });
    const store = new MigrationStore(await control.client(), { prefix: 'repl-runner' });
    const scheduler = new RecordingScheduler();
    const service = new MigrationService({ store, scheduler });
    const m = await service.create({
      source: 'old',
      target: 'new',
      plan,
      requester: 'UREQ',
      buddy: 'UBUDDY',
    });
    await service.start(m.id, 'UREQ');
    const runner = new StepRunner({
      service,
      registry,
      resolveEndpoints: () => ({ source: src, target: dst }),
      workerId: 'w1',
      leaseMs: 10_000,
      logger: createLogger({ level: 'silent' }),
    });
    assert.equal((await runner.run(scheduler.refs[0]!, { finalAttempt: false })).kind, 'succeeded');
    const start = (await service.get(m.id))!.steps.find((s) => s.kind === 'start_replication')!;
    assert.equal(start.status, 'awaiting_approval');
    assert.ok((await service.approve(m.id, start.id, 'UBUDDY', start.hash)).ok);
    const running = runner.run(scheduler.refs.at(-1)!, { finalAttempt: false });
    // Wait until REPLICAOF went out, then abort as /migrate abort does (flag + the worker's signal).
    for (let i = 0; i < 100 && !/role:slave/.test((await tc.info('replication')) as string); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok((await service.abort(m.id, 'UREQ', 'changed our mind')).ok);
    runner.abortLocal(m.id);
    const res = await running;
    assert.equal(res.kind, 'aborted');
    assert.match(
      res.kind === 'aborted' ? res.state : '',
      /detached from the source .*restored masteruser, masterauth/,
    );
    assert.match((await tc.info('replication')) as string, /role:master/);
    assert.equal(await config('masterauth'), '');
    const stored = (await service.get(m.id, { checkpoints: true }))!.steps.find((s) => s.id === start.id)!;
    assert.equal(stored.status, 'aborted');
    // The stored checkpoint holds the originals, never the password.
    assert.ok(!JSON.stringify(stored.checkpoint).includes(REPL_PW));
    assert.deepEqual((stored.checkpoint as { originals: Record<string, string> }).originals, {
      masteruser: '',
      masterauth: '',
    });
  });
});
