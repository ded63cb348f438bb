// A dump-restore migration end to end with the real executors and BullMQ workers: an application
// process writes to the source through the bulk copy and live sync, the buddy approves each gate,
// the apps are repointed (the writer moves to the target) while the source is paused, and every
// write the source acknowledged is on the target at the end.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Runtime, WorkerPool } from '../../src/jobs/runtime.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import type { FollowerStatus } from '../../src/strategies/live-phase/index.js';
import { compareServers } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { fillEveryType } from './copy-fixtures.js';
import {
  approve,
  assertWritesOnTarget,
  confirm,
  ended,
  explain,
  inProcessWorkers,
  killChildren,
  planFor,
  startWriter,
  stepOf,
  until,
} from './dump-restore-support/helpers.js';

const PASSWORD = 'dump-restore-flow-secret';

describe('dump-restore: the live phase through every gate', () => {
  let control: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let rt: Runtime;
  let pool: WorkerPool;

  before(async () => {
    [control, source, target] = await Promise.all([
      startRedis(),
      startRedis({ password: PASSWORD, configLines: ['notify-keyspace-events KEA'] }),
      startRedis(),
    ]);
    const db = await source.client();
    await fillEveryType(db, 'seed:');
    const pipe = db.pipeline();
    for (let i = 0; i < 10_000; i++) {
      pipe.set(
        Buffer.concat([Buffer.from('bulk:'), Buffer.from([i & 0xff, 0xff]), Buffer.from(String(i))]),
        `v${i}`,
      );
      if (i % 5 === 0) pipe.hset(`h:${i}`, 'a', String(i), 'b', 'x'.repeat(i % 100));
    }
    await pipe.exec();
    ({ rt, pool } = await inProcessWorkers(
      { control, source, target },
      { prefix: 'flow', workerId: 'flow-worker', concurrency: 2 },
    ));
  });

  after(async () => {
    killChildren();
    await pool?.close(5000);
    await rt?.close();
    await Promise.all([control?.stop(), source?.stop(), target?.stop()]);
  });

  it('copies, follows, pauses, repoints, resumes: every acknowledged write is on the target', async (t) => {
    const src = parseEndpointUrl(source.url, 'src');
    const dst = parseEndpointUrl(target.url, 'dst');
    const plan = await planFor(src, dst, { writePauseTimeoutMs: 2000 });
    assert.equal(plan.strategy, 'dump-restore');
    assert.deepEqual(
      plan.steps.map((s) => s.kind),
      [
        'preflight',
        'bulk_copy',
        'live_sync',
        'verify',
        'write_pause',
        'repoint',
        'resume_writes',
        'post_verify',
      ],
    );
    const { service } = rt;
    const m = await service.create({
      source: 'src',
      target: 'dst',
      plan,
      requester: 'UREQ',
      buddy: 'UBUDDY',
    });
    const writer = await startWriter(source.url);
    await writer.acked(100);
    assert.ok((await service.start(m.id, 'UREQ')).ok);

    await approve(service, m.id, 'bulk_copy');
    const writesAtCopy = writer.count();
    // live_sync and verify run with the writer still writing; then the buddy approves the pause.
    await approve(service, m.id, 'write_pause');
    const afterFollow = (await service.get(m.id))!;
    const live = stepOf(afterFollow, 'live_sync');
    assert.equal(live.status, 'succeeded');
    assert.match(live.summary ?? '', /caught up with the source/);
    assert.equal(stepOf(afterFollow, 'verify').status, 'succeeded');
    assert.ok(writer.count() > writesAtCopy, 'writes went on through the copy and live sync');

    // The repoint waits for a person while the source is paused: the app's next write blocks.
    const gate = await until('the repoint gate', async () => {
      const cur = (await service.get(m.id))!;
      const step = stepOf(cur, 'repoint');
      return step.status === 'awaiting_approval' && cur;
    });
    const pause = stepOf(gate, 'write_pause');
    assert.equal(pause.status, 'succeeded');
    assert.match(pause.summary ?? '', /source writes paused since .*renewed by the follower/);
    const paused = (await rt.livePhase.store.read(m.id)).status as FollowerStatus;
    assert.equal(paused.state, 'paused');
    assert.equal(paused.drained, true);
    const ackedAtPause = writer.count();
    // Longer than one CLIENT PAUSE timeout: only the follower's renewals keep the source paused.
    await new Promise((r) => setTimeout(r, 2600));
    assert.ok(writer.count() <= ackedAtPause + 50, 'writes are held while paused');
    writer.redirect();
    await confirm(service, m.id, 'repoint');
    await writer.settled;

    const done = await ended(service, m.id);
    assert.equal(done.status, 'succeeded', explain(done));
    const resume = stepOf(done, 'resume_writes');
    const report = resume.result as { pausedMs: number; killed: unknown[]; pauseLapsed: boolean };
    assert.ok(report.pausedMs >= 2600, `paused ${report.pausedMs} ms`);
    assert.equal(report.pauseLapsed, false);
    assert.ok(report.killed.length >= 1, 'the writer connection left on the source was killed');
    const post = stepOf(done, 'post_verify');
    assert.match(post.summary ?? '', /^identical/);

    const writes = await writer.stop();
    // The write blocked by the pause was never run on the source: its connection was killed.
    assert.equal(writes.unacked.length, 1, JSON.stringify(writes.unacked));
    const checked = await assertWritesOnTarget(writes, await target.client());
    assert.deepEqual((await compareServers(source, target, { ttlToleranceMs: 1000 })).slice(0, 10), []);
    const follower = (await rt.livePhase.store.read(m.id)).status!;
    assert.equal(follower.state, 'stopped');
    t.diagnostic(
      `${writes.acked} writes acknowledged by the source (${checked} keys checked on the target); ` +
        `follower applied ${follower.keysApplied} changes; pause ${report.pausedMs} ms ` +
        `(drain ${String(pause.result?.drainMs)} ms)`,
    );
    // Nothing secret in the audit trail.
    const raw = JSON.stringify(await service.events(m.id));
    assert.ok(!raw.includes(PASSWORD));
    assert.ok(raw.includes('follower run 1 started'));
  });
});
