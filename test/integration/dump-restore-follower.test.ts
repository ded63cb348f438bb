// The follower's record on the control Redis (runs, fencing, goals) and how a follower hands over:
// against real servers, without BullMQ (the jobs layer only calls Follower.run).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { planMigration } from '../../src/planner/plan.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import type { Migration } from '../../src/runbook/model.js';
import { MigrationStore } from '../../src/runbook/store.js';
import {
  Follower,
  type FollowerStatus,
  FollowerStore,
  resolveLivePhaseTiming,
} from '../../src/strategies/live-phase/index.js';
import { createLogger } from '../../src/util/logger.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { options, source as sourceProbe, target as targetProbe } from '../unit/planner/fixtures.js';
import { memoryMigration } from '../unit/runbook/fixtures.js';

async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([promise, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);
}

async function until<T>(what: string, get: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('follower record and hand-over', () => {
  let control: RedisServer;
  let source: RedisServer;
  let redis: Redis;
  let n = 0;

  before(async () => {
    [control, source] = await Promise.all([startRedis(), startRedis()]);
    redis = await control.client();
  });
  after(async () => {
    await Promise.all([control.stop(), source.stop()]);
  });

  const store = () => new FollowerStore(new MigrationStore(redis, { prefix: `f${n++}` }));

  it('starts one run at a time: two racing starts of the same run have one winner', async () => {
    const s = store();
    const [a, b] = await Promise.all([
      s.startRun('m1', 0, 'collect', 'step:a', false),
      s.startRun('m1', 0, 'follow', 'step:b', true),
    ]);
    assert.deepEqual([a.started, b.started].sort(), [false, true]);
    assert.equal(a.run, 1);
    assert.equal(b.run, 1);
    const rec = await s.read('m1');
    assert.equal(rec.run, 1);
    assert.equal(rec.command?.seq, 1);
  });

  it('goals never go back; the same goal again gets a new seq', async () => {
    const s = store();
    assert.deepEqual(await s.setGoal('m1', 'pause', 'x'), { kind: 'norun' });
    await s.startRun('m1', 0, 'collect', 'step:copy', false);
    assert.deepEqual(await s.setGoal('m1', 'pause', 'step:pause'), { kind: 'ok', run: 1, seq: 2 });
    assert.deepEqual(await s.setGoal('m1', 'follow', 'step:verify'), { kind: 'kept', run: 1, seq: 2 });
    assert.deepEqual(await s.setGoal('m1', 'pause', 'step:repoint'), { kind: 'ok', run: 1, seq: 3 });
    assert.deepEqual(await s.setGoal('m1', 'abort', 'step:pause', 2), { kind: 'conflict', run: 1 });
    assert.equal((await s.command('m1'))?.goal, 'pause');
  });

  it('fences: one holder per run, a late holder cannot write, old runs are stale, ended runs done', async () => {
    const s = store();
    const ref = { migrationId: 'm1', run: 1 };
    assert.deepEqual(await s.claim(ref, 'w1', 500), { kind: 'stale' });
    await s.startRun('m1', 0, 'follow', 'step:live', true);
    const first = await s.claim(ref, 'w1', 500);
    assert.equal(first.kind, 'claimed');
    assert.equal(first.kind === 'claimed' && first.epoch, 1);
    assert.equal(first.kind === 'claimed' && first.reconcile, true);
    const busy = await s.claim(ref, 'w2', 500);
    assert.equal(busy.kind, 'busy');
    const status = { run: 1, epoch: 1, state: 'following', paused: false } as FollowerStatus;
    assert.equal(await s.publish(ref, 1, status), 'ok');
    await sleep(550);
    const second = await s.claim(ref, 'w2', 500);
    assert.equal(second.kind === 'claimed' && second.epoch, 2);
    assert.equal(second.kind === 'claimed' && second.previous?.state, 'following');
    assert.equal(
      await s.publish(ref, 1, { ...status, state: 'paused' }),
      'fenced',
      'the old holder is fenced',
    );
    assert.equal(await s.heartbeat(ref, 1, 500), 'fenced');
    assert.equal(await s.heartbeat(ref, 2, 500), 'ok');
    await redis.hset(s.migrations.key('m1', 'fence'), 'abort', '{"userId":"U"}');
    assert.equal(await s.heartbeat(ref, 2, 500), 'aborted');
    assert.equal(await s.publish(ref, 2, { ...status, epoch: 2, state: 'stopped' }, true), 'ok');
    assert.deepEqual(await s.claim(ref, 'w3', 500), { kind: 'done' });
    await s.startRun('m1', 1, 'pause', 'step:repoint', false);
    assert.deepEqual(await s.claim(ref, 'w3', 500), { kind: 'stale' }, 'run 1 was replaced by run 2');
    assert.equal((await s.read('m1')).previous?.state, 'stopped', 'the last run is kept');
    // The record gone (a control Redis restarted empty): lost, not fenced, for the status write too.
    await redis.del(s.key('m1'));
    assert.equal(await s.heartbeat({ migrationId: 'm1', run: 2 }, 1, 500), 'lost');
    assert.equal(await s.publish({ migrationId: 'm1', run: 2 }, 1, status), 'lost');
  });

  it("keeps a psync feed's resume point across takeovers and runs; a fenced holder cannot move it", async () => {
    const s = store();
    const ref = { migrationId: 'm1', run: 1 };
    assert.equal(await s.psyncResume('m1'), undefined);
    await s.startRun('m1', 0, 'follow', 'step:copy', false);
    const first = await s.claim(ref, 'w1', 300);
    assert.equal(first.kind, 'claimed');
    const point = { checkpoint: { replid: 'a'.repeat(40), offset: 1234, db: 2 }, fullSyncStarted: true };
    assert.equal(await s.savePsyncResume(ref, 1, point), true);
    assert.deepEqual(await s.psyncResume('m1'), point);
    await sleep(350);
    const second = await s.claim(ref, 'w2', 300);
    assert.equal(second.kind === 'claimed' && second.epoch, 2);
    const later = { checkpoint: { replid: 'a'.repeat(40), offset: 99 }, fullSyncStarted: true };
    assert.equal(await s.savePsyncResume(ref, 1, later), false, 'the old holder is fenced');
    assert.deepEqual(await s.psyncResume('m1'), point);
    assert.equal(
      await s.savePsyncResume(ref, 2, { ...point, checkpoint: { replid: 'a'.repeat(40), offset: 2000 } }),
      true,
    );
    // A new run (a retried step) continues from the same point.
    await s.startRun('m1', 1, 'follow', 'step:live', false);
    assert.equal((await s.psyncResume('m1'))?.checkpoint?.offset, 2000);
    assert.equal(await s.savePsyncResume(ref, 2, point), false, 'run 1 was replaced by run 2');
  });

  describe('a pause-only follower', () => {
    const plan = planMigration(
      sourceProbe({ notifyKeyspaceEvents: '', missing: { 'CONFIG SET': 'x', 'CONFIG GET': 'x' } }),
      targetProbe(),
      options({ strategy: 'dump-restore', writePauseTimeoutMs: 1500 }),
    );
    const migration: Migration = memoryMigration({ status: 'running' }, plan);

    function follower(s: FollowerStore, worker: string) {
      const endpoint = parseEndpointUrl(source.url, 'src');
      return new Follower({
        ref: { migrationId: migration.id, run: 1 },
        channel: s,
        readMigration: async () => migration,
        endpoints: { source: endpoint, target: endpoint },
        workerId: worker,
        leaseMs: 600,
        timing: resolveLivePhaseTiming({ statusIntervalMs: 50 }),
        logger: createLogger({ level: 'silent' }),
      });
    }
    const status = async (s: FollowerStore) => (await s.read(migration.id)).status;

    it('hands over on shutdown keeping the pause; the next holder renews it, then resumes', async () => {
      const s = store();
      await s.startRun(migration.id, 0, 'pause', 'step:pause', false);
      const a = follower(s, 'wa');
      const runA = a.run();
      const paused = await until('the pause', async () => {
        const st = await status(s);
        return st?.state === 'paused' && st;
      });
      const app = await source.client();
      try {
        const held = app.set('k', '1');
        held.catch(() => undefined);
        assert.equal(await within(held, 200), 'pending', 'writes wait');
        a.release();
        assert.deepEqual(await runA, { kind: 'released' });
        const b = follower(s, 'wb');
        const runB = b.run();
        const again = await until('the pause taken over', async () => {
          const st = await status(s);
          return st?.epoch === 2 && st.state === 'paused' && st;
        });
        assert.equal(again.pauseStartedAt, paused.pauseStartedAt, 'one pause, measured from its start');
        // Longer than the 1.5 s CLIENT PAUSE timeout: held only because wb renews it.
        await sleep(2000);
        const write = app.set('k', '2');
        write.catch(() => undefined);
        assert.equal(await within(write, 200), 'pending', 'still paused after the timeout');
        await s.setGoal(migration.id, 'resume', 'step:resume');
        const outcome = await runB;
        assert.equal(outcome.kind, 'stopped');
        // The app's connection was still on the source: killed, its held writes never ran.
        await assert.rejects(held, /Connection is closed/);
        await assert.rejects(write, /Connection is closed/);
        const fresh = await source.client();
        assert.equal(await within(fresh.set('other', '1'), 2000), 'OK', 'writes resumed');
        assert.equal(await fresh.get('k'), null);
        const done = (await status(s))!;
        assert.equal(done.resume?.killed.length, 1);
        assert.equal(done.resume?.pauseLapsed, false);
        assert.ok(done.resume!.pausedMs >= 2000, `paused ${done.resume!.pausedMs} ms`);
      } finally {
        await (await source.client()).call('CLIENT', 'UNPAUSE');
      }
    });

    it('a holder fenced out by a takeover stops without touching the pause', async () => {
      const s = store();
      await s.startRun(migration.id, 0, 'pause', 'step:pause', false);
      const a = follower(s, 'wa');
      const runA = a.run();
      await until('the pause', async () => (await status(s))?.state === 'paused');
      const app = await source.client();
      try {
        // Another worker takes the run over (as after a stall): the epoch moves on.
        await redis.hincrby(s.key(migration.id), 'epoch', 1);
        assert.deepEqual(await runA, { kind: 'fenced' });
        const held = app.set('k', '3');
        assert.equal(await within(held, 200), 'pending', "the pause is the new holder's");
        assert.equal((await status(s))?.state, 'paused', 'the fenced holder wrote nothing more');
      } finally {
        await (await source.client()).call('CLIENT', 'UNPAUSE');
      }
    });
  });
});
