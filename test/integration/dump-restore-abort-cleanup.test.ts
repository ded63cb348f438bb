// An abort puts the source back even when the follower that changed it is dead: its worker was
// SIGKILLed while the source was paused (notify-keyspace-events changed), nobody runs the migration,
// and the abort comes from elsewhere. Also the cleanup itself, for a follower whose job is gone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildExecutorRegistry } from '../../src/jobs/executors.js';
import { openRuntime, type Runtime, startWorkers } from '../../src/jobs/runtime.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { cleanupLivePhase, type FollowerStatus } from '../../src/strategies/live-phase/index.js';
import { createLogger } from '../../src/util/logger.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import {
  approve,
  awaiting,
  killChildren,
  planFor,
  spawnWorker,
  until,
} from './dump-restore-support/helpers.js';
import { JOB_TIMING, LIVE_PHASE_TIMING } from './dump-restore-support/timing.js';

describe('abort with a dead follower', () => {
  let control: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let rt: Runtime;

  before(async () => {
    [control, source, target] = await Promise.all([startRedis(), startRedis(), startRedis()]);
    rt = await openRuntime({
      control: parseEndpointUrl(control.url, 'control'),
      logger: createLogger({ level: 'silent' }),
      prefix: 'cleanup',
      timing: JOB_TIMING,
      livePhase: LIVE_PHASE_TIMING,
    });
  });
  after(async () => {
    killChildren();
    await rt?.close();
    await Promise.all([control?.stop(), source?.stop(), target?.stop()]);
  });

  const notify = async () =>
    ((await (await source.client()).config('GET', 'notify-keyspace-events')) as string[])[1];
  /** A write on the source answers within a second (not held by a pause). */
  const writable = async () => {
    const c = await source.client();
    const t0 = Date.now();
    await c.set('probe', String(t0));
    return Date.now() - t0 < 1000;
  };

  it('the abort lifts the pause and restores notify-keyspace-events within 10 s', async (t) => {
    const db = await source.client();
    const pipe = db.pipeline();
    for (let i = 0; i < 2000; i++) pipe.set(`k:${i}`, `v${i}`);
    await pipe.exec();
    const worker = spawnWorker({
      CONTROL_URL: control.url,
      SOURCE_URL: source.url,
      TARGET_URL: target.url,
      PREFIX: 'cleanup',
      WORKER_ID: 'wdead',
      LOCK_MS: '2000',
      STALLED_MS: '1000',
    });
    await worker.ready;
    // A long pause: it would outlast the test if nobody lifted it.
    const plan = await planFor(parseEndpointUrl(source.url, 'src'), parseEndpointUrl(target.url, 'dst'), {
      writePauseTimeoutMs: 120_000,
    });
    const { service } = rt;
    const m = await service.create({
      source: 'src',
      target: 'dst',
      plan,
      requester: 'UREQ',
      buddy: 'UBUDDY',
    });
    assert.ok((await service.start(m.id, 'UREQ')).ok);
    await approve(service, m.id, 'bulk_copy');
    await approve(service, m.id, 'write_pause');
    await awaiting(service, m.id, 'repoint');
    assert.notEqual(await notify(), '', 'live sync turned notifications on');
    worker.kill('SIGKILL');
    await worker.exited;

    // Another process (a worker fleet that knows the endpoints) is up; the requester aborts.
    const src = parseEndpointUrl(source.url, 'src');
    const dst = parseEndpointUrl(target.url, 'dst');
    const pool = await startWorkers(rt, {
      registry: buildExecutorRegistry(undefined, rt),
      resolveEndpoints: () => ({ source: src, target: dst }),
      workerId: 'wlive',
    });
    try {
      const t0 = Date.now();
      assert.ok((await service.abort(m.id, 'UREQ', 'the worker died')).ok);
      await until(
        'the source to be put back',
        async () => (await notify()) === '' && (await writable()),
        10_000,
      );
      t.diagnostic(`source put back ${Date.now() - t0} ms after the abort`);
      assert.equal((await service.get(m.id))?.status, 'aborted');
    } finally {
      await pool.close();
    }
  });

  it('cleanupLivePhase: a follower whose job is gone left the pause on and the setting changed', async () => {
    const db = await source.client();
    await db.config('SET', 'notify-keyspace-events', 'KA');
    await db.call('CLIENT', 'PAUSE', '120000', 'WRITE');
    const plan = await planFor(parseEndpointUrl(source.url, 'src'), parseEndpointUrl(target.url, 'dst'), {
      onNonEmptyTarget: 'replace',
    });
    // notify-keyspace-events is "KA" now, so the plan would not set it: the recorded plan did.
    const m = await rt.service.create({
      source: 'src',
      target: 'dst',
      plan,
      requester: 'UREQ',
      buddy: 'UBUDDY',
    });
    const migration = (await rt.service.get(m.id))!;
    for (const s of migration.steps) if (s.kind === 'live_sync') s.params.setConfig = true;
    const store = rt.livePhase.store;
    await store.startRun(m.id, 0, 'pause', 'step:pause', false);
    await store.rememberNotifyOriginal(m.id, '');
    const claim = await store.claim({ migrationId: m.id, run: 1 }, 'wgone', 60_000);
    assert.equal(claim.kind, 'claimed');
    const status = { run: 1, epoch: 1, state: 'paused', paused: true, drained: true, warnings: [] };
    assert.equal(
      await store.publish({ migrationId: m.id, run: 1 }, 1, status as unknown as FollowerStatus),
      'ok',
    );

    const alive = { launch: async () => {}, alive: async () => true };
    assert.equal(
      await cleanupLivePhase({ store, launcher: alive }, migration, parseEndpointUrl(source.url, 'src')),
      undefined,
      'a live follower cleans up itself',
    );
    assert.notEqual(await notify(), '');

    const gone = { launch: async () => {}, alive: async () => false };
    const said = await cleanupLivePhase(
      { store, launcher: gone },
      migration,
      parseEndpointUrl(source.url, 'src'),
    );
    assert.match(said ?? '', /source writes resumed.*notify-keyspace-events restored to ""/);
    assert.equal(await notify(), '');
    assert.ok(await writable());
  });
});
