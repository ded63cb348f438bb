// The follower of a psync migration against real servers, without BullMQ (the jobs layer only calls
// Follower.run): it holds a PsyncReplica, saves its (replid, offset) in the control Redis, and a
// follower that takes the run over (after a hand-over, or fencing out a stalled holder) continues
// the stream with PSYNC <replid> <offset> (CONTINUE, no second full sync); the write pause drains
// to the source's offset; the target ends identical to the source by an independent comparison.

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
import { compareServers } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { options, source as sourceProbe, target as targetProbe } from '../unit/planner/fixtures.js';
import { memoryMigration } from '../unit/runbook/fixtures.js';

async function until<T>(what: string, get: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('psync follower: checkpoint and takeover', () => {
  let control: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let redis: Redis;
  let src: Redis;
  let n = 0;

  before(async () => {
    [control, source, target] = await Promise.all([
      startRedis(),
      startRedis({ password: 'psync-follower-pw', configLines: ['repl-diskless-sync-delay 0'] }),
      startRedis(),
    ]);
    redis = await control.client();
    src = await source.client();
    const pipe = src.pipeline();
    for (let i = 0; i < 2000; i++) pipe.set(`seed:${i}`, `v${i}`);
    pipe.hset('h', { a: '1' }).rpush('l', 'a', 'b').zadd('z', 1, 'm').set('ttl', 'x', 'PX', 600_000);
    await pipe.exec();
  });
  after(async () => {
    await Promise.all([control?.stop(), source?.stop(), target?.stop()]);
  });

  const plan = planMigration(
    sourceProbe(),
    targetProbe({ missing: { REPLICAOF: 'unknown command' } }),
    options({ writePauseTimeoutMs: 5000 }),
  );

  function setup() {
    assert.equal(plan.strategy, 'psync', JSON.stringify(plan.blockers));
    const migration: Migration = memoryMigration({ status: 'running' }, plan);
    const migrations = new MigrationStore(redis, { prefix: `pf${n++}` });
    const store = new FollowerStore(migrations);
    const follower = (worker: string) =>
      new Follower({
        ref: { migrationId: migration.id, run: 1 },
        channel: store,
        readMigration: async () => migration,
        endpoints: {
          source: parseEndpointUrl(source.url, 'src'),
          target: parseEndpointUrl(target.url, 'dst'),
        },
        workerId: worker,
        leaseMs: 1500,
        timing: resolveLivePhaseTiming({ statusIntervalMs: 50, pollMs: 25 }),
        logger: createLogger({ level: 'silent' }),
      });
    const status = async () => (await store.read(migration.id)).status;
    const caughtUp = async (epoch: number) => {
      try {
        return await until(`follower ${epoch} caught up`, async () => {
          const s = await status();
          return (
            s?.epoch === epoch && s.psync?.phase === 'stream' && s.caughtUp && s.psync.lagBytes === 0 && s
          );
        });
      } catch (err) {
        throw new Error(`${(err as Error).message}: ${JSON.stringify(await status())}`);
      }
    };
    const notes = async () => (await migrations.events(migration.id)).map((e) => e.message);
    return { migration, store, follower, status, caughtUp, notes };
  }

  async function appWrites(from: number, count: number): Promise<void> {
    const pipe = src.pipeline();
    for (let i = from; i < from + count; i++) pipe.set(`live:${i}`, `w${i}`).incr('counter');
    pipe.del('seed:0').expire('seed:1', 600).hincrby('h', 'a', 1);
    await pipe.exec();
  }

  it('a hand-over continues the stream with CONTINUE; the pause drains to the source offset; nothing applied twice', async () => {
    await (await target.client()).flushall();
    await src.del('counter');
    const { migration, store, follower, status, caughtUp, notes } = setup();
    await store.startRun(migration.id, 0, 'follow', 'step:bulk', false);
    const a = follower('wa');
    const runA = a.run();
    await caughtUp(1);
    await appWrites(0, 300);
    await until('the checkpoint past the writes', async () => {
      const p = await store.psyncResume(migration.id);
      return (p?.checkpoint?.offset ?? 0) >= (await sourceOffset(src)) && p;
    });
    a.release();
    assert.deepEqual(await runA, { kind: 'released' });
    const handedOver = (await store.psyncResume(migration.id))!;
    assert.equal(handedOver.fullSyncStarted, true);
    // Written while nobody follows: the next holder must get them from the stream.
    await appWrites(300, 300);
    const b = follower('wb');
    const runB = b.run();
    const caught = await caughtUp(2);
    assert.equal(caught.psync?.replid, handedOver.checkpoint?.replid);
    const said = await notes();
    assert.equal(said.filter((m) => /^psync: full sync started/.test(m)).length, 1, said.join('\n'));
    assert.ok(
      said.some((m) =>
        new RegExp(`^psync: replication continued from offset ${handedOver.checkpoint!.offset} `).test(m),
      ),
      said.join('\n'),
    );
    await appWrites(600, 100);
    await store.setGoal(migration.id, 'pause', 'step:pause');
    const paused = await until('paused and drained', async () => {
      const s = await status();
      return s?.state === 'paused' && s.drained && s;
    });
    assert.ok(paused.drain?.offset !== undefined, JSON.stringify(paused.drain));
    assert.ok(paused.psync!.appliedOffset! >= paused.drain!.offset!, JSON.stringify(paused.psync));
    // Under the pause the target is the source, by an independent reader; INCR applied once each.
    assert.deepEqual(await compareServers(source, target), []);
    assert.equal(await (await target.client()).get('counter'), '700');
    await store.setGoal(migration.id, 'resume', 'step:resume');
    const outcome = await runB;
    assert.equal(outcome.kind, 'stopped');
    const done = (await status()) as FollowerStatus;
    assert.ok(done.resume && done.resume.pausedMs >= 0);
    // After the resume, the source's writes no longer reach the target.
    // (The resume killed the test's source connection with the other stale ones.)
    src = await source.client();
    await src.set('after-resume', '1');
    await sleep(300);
    assert.equal(await (await target.client()).get('after-resume'), null);
  });

  it('a stalled holder fenced out: continues from a checkpoint the source has not moved past', async () => {
    await (await target.client()).flushall();
    src = await source.client();
    await src.del('after-resume', 'counter');
    const { migration, store, follower, caughtUp, notes } = setup();
    await store.startRun(migration.id, 0, 'follow', 'step:bulk', false);
    const a = follower('wa');
    const runA = a.run();
    await caughtUp(1);
    await appWrites(0, 200);
    await until('the checkpoint past the writes', async () => {
      const p = await store.psyncResume(migration.id);
      return (p?.checkpoint?.offset ?? 0) >= (await sourceOffset(src)) && p;
    });
    // Another worker claimed the run (as after a stall or a SIGKILL): the epoch moves on, and the
    // stalled holder's last save is refused, so the point is one saved while it ran.
    await redis.hincrby(store.key(migration.id), 'epoch', 1);
    assert.deepEqual(await runA, { kind: 'fenced' });
    assert.equal((await store.psyncResume(migration.id))?.exact, false);
    await sleep(1600); // the stalled holder's lease runs out
    const b = follower('wb');
    const runB = b.run();
    await caughtUp(3);
    const said = await notes();
    assert.equal(said.filter((m) => /^psync: full sync started/.test(m)).length, 1, said.join('\n'));
    assert.ok(
      said.some((m) => /^psync: replication continued from offset \d+/.test(m)),
      said.join('\n'),
    );
    await appWrites(200, 100);
    await store.setGoal(migration.id, 'pause', 'step:pause');
    await until('paused', async () => (await store.read(migration.id)).status?.drained);
    assert.deepEqual(await compareServers(source, target), []);
    assert.equal(await (await target.client()).get('counter'), '300');
    await store.setGoal(migration.id, 'stop', 'step:x');
    assert.equal((await runB).kind, 'stopped');
  });

  it('a holder killed past its last checkpoint: a full sync again, never a stretch applied twice', async () => {
    await (await target.client()).flushall();
    src = await source.client();
    await src.del('counter');
    const { migration, store, follower, caughtUp, notes } = setup();
    await store.startRun(migration.id, 0, 'follow', 'step:bulk', false);
    const a = follower('wa');
    const runA = a.run();
    await caughtUp(1);
    await until('a checkpoint', async () => (await store.psyncResume(migration.id))?.checkpoint);
    // Applied on the target, but (fenced at once) never saved: what a SIGKILL leaves.
    await redis.hincrby(store.key(migration.id), 'epoch', 1);
    await appWrites(0, 200);
    assert.deepEqual(await runA, { kind: 'fenced' });
    const saved = (await store.psyncResume(migration.id))!;
    assert.ok(saved.checkpoint!.offset < (await sourceOffset(src)), 'the writes are past the checkpoint');
    await sleep(1600);
    const b = follower('wb');
    const runB = b.run();
    await caughtUp(3);
    const said = await notes();
    assert.ok(
      said.some((m) => /^psync: the last holder stopped without saving where it was/.test(m)),
      said.join('\n'),
    );
    assert.equal(said.filter((m) => /^psync: full sync started/.test(m)).length, 2, said.join('\n'));
    await store.setGoal(migration.id, 'pause', 'step:pause');
    await until('paused', async () => (await store.read(migration.id)).status?.drained);
    assert.deepEqual(await compareServers(source, target), []);
    assert.equal(await (await target.client()).get('counter'), '200', 'every INCR applied once');
    await store.setGoal(migration.id, 'stop', 'step:x');
    assert.equal((await runB).kind, 'stopped');
  });
});

async function sourceOffset(src: Redis): Promise<number> {
  const info = await src.info('replication');
  return Number(/master_repl_offset:(\d+)/.exec(info)?.[1] ?? 0);
}
