// The follower dies (SIGKILL of its worker process) in the middle of live sync while an
// application keeps writing to the source: BullMQ's stall recovery restarts it on the other worker,
// which claims the run again (fenced), reconciles the gap, and the migration still ends identical
// with every acknowledged write on the target.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openRuntime, type Runtime } from '../../src/jobs/runtime.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import type { FollowerStatus } from '../../src/strategies/live-phase/index.js';
import { createLogger } from '../../src/util/logger.js';
import { compareServers } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import {
  approve,
  assertWritesOnTarget,
  awaiting,
  confirm,
  ended,
  explain,
  killChildren,
  planFor,
  spawnWorker,
  startWriter,
  stepOf,
  until,
  type WorkerProcess,
} from './dump-restore-support/helpers.js';
import { LIVE_PHASE_TIMING } from './dump-restore-support/timing.js';

describe('dump-restore: a follower killed mid live sync', () => {
  let control: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let rt: Runtime;

  /** Fresh servers' data: 5000 keys on the source, the target empty. */
  async function seed() {
    const db = await source.client();
    await db.flushall();
    await (await target.client()).flushall();
    const pipe = db.pipeline();
    // No TTLs here: the planned verification allows 100 ms of TTL drift, which a bulk copy on a
    // loaded test machine can exceed (the writer's TTLs go through live sync, in small batches).
    for (let i = 0; i < 5000; i++) pipe.set(Buffer.from(`seed:${i}:\xff`, 'latin1'), `v${i}`);
    await pipe.exec();
  }

  before(async () => {
    [control, source, target] = await Promise.all([
      startRedis(),
      startRedis({ configLines: ['notify-keyspace-events KEA'] }),
      startRedis(),
    ]);
    await seed();
    rt = await openRuntime({
      control: parseEndpointUrl(control.url, 'control'),
      logger: createLogger({ level: 'silent' }),
      prefix: 'crash',
      livePhase: LIVE_PHASE_TIMING,
    });
  });

  after(async () => {
    killChildren();
    await rt?.close();
    await Promise.all([control?.stop(), source?.stop(), target?.stop()]);
  });

  const env = (id: string) => ({
    CONTROL_URL: control.url,
    SOURCE_URL: source.url,
    TARGET_URL: target.url,
    PREFIX: 'crash',
    WORKER_ID: id,
    LOCK_MS: '2000',
    STALLED_MS: '1000',
  });

  it('resumes on another worker and still ends identical', async (t) => {
    const workers = new Map<string, WorkerProcess>([
      ['wa', spawnWorker(env('wa'))],
      ['wb', spawnWorker(env('wb'))],
    ]);
    await Promise.all([...workers.values()].map((w) => w.ready));
    const plan = await planFor(parseEndpointUrl(source.url, 'src'), parseEndpointUrl(target.url, 'dst'), {
      writePauseTimeoutMs: 3000,
    });
    const { service } = rt;
    const m = await service.create({
      source: 'src',
      target: 'dst',
      plan,
      requester: 'UREQ',
      buddy: 'UBUDDY',
    });
    const writer = await startWriter(source.url, 11);
    await writer.acked(50);
    assert.ok((await service.start(m.id, 'UREQ')).ok);
    await approve(service, m.id, 'bulk_copy');

    const read = async () => (await rt.livePhase.store.read(m.id)).status;
    const following = await until('the follower to follow', async () => {
      const s = await read();
      return s?.applying && s.state === 'following' && s.keysApplied >= 30 && s;
    });
    assert.equal(following.epoch, 1);
    const victim = workers.get(following.worker)!;
    const survivor = [...workers.entries()].find(([id]) => id !== following.worker)!;
    const appliedBefore = following.keysApplied;
    const ackedAtKill = writer.count();
    victim.kill('SIGKILL');
    await victim.exited;
    const killedAt = Date.now();
    // Writes go on while nobody follows the source.
    await writer.acked(ackedAtKill + 150);

    const restarted = await until(
      'the follower to be taken over',
      async () => {
        const s = await read();
        return s && s.epoch >= 2 && s.state === 'following' && s;
      },
      60_000,
      async () =>
        `${JSON.stringify(await read())}; ${JSON.stringify((await service.events(m.id)).slice(-5).map((e) => e.message))}; ${[...workers.values()].map((w) => w.stderr().slice(-2000)).join(' | ')}`,
    );
    assert.equal(restarted.worker, survivor[0]);
    assert.equal(restarted.run, 1, 'the same run, taken over (not a new one)');
    assert.equal(restarted.reconciledOnStart, true, 'the gap was reconciled');
    assert.ok(restarted.rescans >= 1);
    const events = await service.events(m.id);
    const takeover = events.find((e) => /follower run 1 taken over by/.test(e.message));
    assert.ok(takeover, 'the takeover is in the audit trail');
    t.diagnostic(
      `follower taken over ${Date.parse(takeover.at) - killedAt} ms after the SIGKILL (2 s lock, 1 s stall checks); ` +
        `${appliedBefore} changes applied before, ${restarted.keysApplied} after the reconcile pass`,
    );

    await approve(service, m.id, 'write_pause');
    await until('the pause', async () => (await read())?.state === 'paused');
    writer.redirect();
    await confirm(service, m.id, 'repoint');
    await writer.settled;
    const done = await ended(service, m.id);
    assert.equal(done.status, 'succeeded', explain(done));
    assert.match(stepOf(done, 'post_verify').summary ?? '', /^identical/);
    const writes = await writer.stop();
    const checked = await assertWritesOnTarget(writes, await target.client());
    assert.deepEqual((await compareServers(source, target, { ttlToleranceMs: 1000 })).slice(0, 10), []);
    const last = (await read()) as FollowerStatus;
    assert.equal(last.state, 'stopped');
    t.diagnostic(`${writes.acked} acknowledged writes, ${checked} keys checked on the target`);
    survivor[1].kill('SIGTERM');
    await survivor[1].exited;
  });
  it('killed while the source is paused and the repoint waits: the pause is taken over, no write lost', async (t) => {
    await seed();
    const workers = new Map<string, WorkerProcess>([
      ['wc', spawnWorker(env('wc'))],
      ['wd', spawnWorker(env('wd'))],
    ]);
    await Promise.all([...workers.values()].map((w) => w.ready));
    // Longer than a takeover (2 s lock + 1 s stall checks): the new follower renews it in time.
    const plan = await planFor(parseEndpointUrl(source.url, 'src'), parseEndpointUrl(target.url, 'dst'), {
      writePauseTimeoutMs: 8000,
    });
    const { service } = rt;
    const m = await service.create({
      source: 'src',
      target: 'dst',
      plan,
      requester: 'UREQ',
      buddy: 'UBUDDY',
    });
    const writer = await startWriter(source.url, 23);
    await writer.acked(50);
    assert.ok((await service.start(m.id, 'UREQ')).ok);
    await approve(service, m.id, 'bulk_copy');
    await approve(service, m.id, 'write_pause');
    await awaiting(service, m.id, 'repoint');
    const read = async () => (await rt.livePhase.store.read(m.id)).status;
    const paused = (await read())!;
    assert.equal(paused.state, 'paused');
    const victim = workers.get(paused.worker)!;
    const survivor = [...workers.entries()].find(([id]) => id !== paused.worker)!;
    const acked = writer.count();
    victim.kill('SIGKILL');
    await victim.exited;
    const again = await until('the pause to be taken over', async () => {
      const s = await read();
      return s && s.epoch >= 2 && s.state === 'paused' && s;
    });
    assert.equal(again.worker, survivor[0]);
    assert.equal(again.pauseStartedAt, paused.pauseStartedAt, 'the same pause, measured from its start');
    assert.equal(again.reconciledOnStart, false, 'no re-copy over a target the apps may already write to');
    assert.deepEqual(again.warnings, [], 'the pause did not lapse');
    assert.ok(writer.count() <= acked + 50, 'writes stayed held');
    writer.redirect();
    await confirm(service, m.id, 'repoint');
    await writer.settled;
    const done = await ended(service, m.id);
    assert.equal(done.status, 'succeeded', explain(done));
    const resume = stepOf(done, 'resume_writes').result as { pausedMs: number; pauseLapsed: boolean };
    assert.equal(resume.pauseLapsed, false);
    const writes = await writer.stop();
    assert.equal(writes.unacked.length, 1, 'the write held through the takeover never ran on the source');
    await assertWritesOnTarget(writes, await target.client());
    assert.deepEqual((await compareServers(source, target, { ttlToleranceMs: 1000 })).slice(0, 10), []);
    t.diagnostic(`pause of ${resume.pausedMs} ms held across the follower's takeover`);
    survivor[1].kill('SIGTERM');
    await survivor[1].exited;
  });
});
