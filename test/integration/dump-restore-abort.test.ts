// Aborting a dump-restore migration in its live phase lifts the write pause at once: during the
// write_pause step (its drain stuck behind a paused target) and while the repoint waits for a
// person. The CLIENT PAUSE timeout is long here, so a prompt write proves the follower unpaused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { Runtime, WorkerPool } from '../../src/jobs/runtime.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import {
  approve,
  awaiting,
  ended,
  inProcessWorkers,
  killChildren,
  planFor,
  startWriter,
  stepOf,
  until,
} from './dump-restore-support/helpers.js';

/** Resolves to 'pending' if the promise has not settled within ms. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([promise, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);
}

describe('dump-restore: abort in the live phase', () => {
  let control: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let rt: Runtime;
  let pool: WorkerPool;
  let n = 0;

  before(async () => {
    [control, source, target] = await Promise.all([
      startRedis(),
      // Notifications off: live sync turns them on (CONFIG SET) and the abort puts them back.
      startRedis(),
      startRedis(),
    ]);
    ({ rt, pool } = await inProcessWorkers(
      { control, source, target },
      { prefix: 'abort', workerId: 'abort-worker' },
    ));
  });

  after(async () => {
    killChildren();
    await pool?.close(5000);
    await rt?.close();
    await Promise.all([control?.stop(), source?.stop(), target?.stop()]);
  });

  async function migration() {
    const s = await source.client();
    await s.flushall();
    await (await target.client()).flushall();
    const pipe = s.pipeline();
    for (let i = 0; i < 2000; i++) pipe.set(`k:${n}:${i}`, `v${i}`);
    await pipe.exec();
    n++;
    const plan = await planFor(parseEndpointUrl(source.url, 'src'), parseEndpointUrl(target.url, 'dst'), {
      // Far longer than the test waits: only the follower's UNPAUSE can free the writes in time.
      writePauseTimeoutMs: 60_000,
    });
    assert.equal(plan.liveSync, 'enable-notifications');
    const m = await rt.service.create({
      source: 'src',
      target: 'dst',
      plan,
      requester: 'UREQ',
      buddy: 'UBUDDY',
    });
    assert.ok((await rt.service.start(m.id, 'UREQ')).ok);
    await approve(rt.service, m.id, 'bulk_copy');
    return m;
  }

  async function assertWritable(client: Redis) {
    const t0 = Date.now();
    assert.equal(await within(client.set('after-abort', '1'), 3000), 'OK', 'the source is still paused');
    return Date.now() - t0;
  }

  it('during write_pause: the drain is stuck, the abort unpauses the source at once', async (t) => {
    const m = await migration();
    const writer = await startWriter(source.url, 3);
    await awaiting(rt.service, m.id, 'write_pause');
    // Writes keep coming and the target takes none: the drain under the pause cannot finish.
    const tgt = await target.client();
    await tgt.call('CLIENT', 'PAUSE', '20000', 'WRITE');
    try {
      await writer.acked(writer.count() + 50);
      await approve(rt.service, m.id, 'write_pause');
      await until('the pause to start', async () => (await rt.livePhase.store.read(m.id)).status?.paused);
      const app = await source.client();
      assert.equal(await within(app.set('during-pause', '1'), 300), 'pending', 'writes wait while paused');
      const running = (await rt.service.get(m.id))!;
      assert.equal(stepOf(running, 'write_pause').status, 'running', 'abort during the step');
      assert.ok((await rt.service.abort(m.id, 'UREQ', 'test')).ok);
      const ms = await assertWritable(await source.client());
      t.diagnostic(`source writable ${ms} ms after the abort`);
      const done = await ended(rt.service, m.id);
      assert.equal(done.status, 'aborted');
      const step = stepOf(done, 'write_pause');
      assert.equal(step.status, 'aborted');
      assert.match(step.summary ?? '', /source writes are resumed by the abort/);
      const follower = await until('the follower to stop', async () => {
        const s = (await rt.livePhase.store.read(m.id)).status;
        return s?.state === 'stopped' && s;
      });
      assert.match(follower.stoppedBecause ?? '', /aborted by UREQ/);
      assert.equal(follower.paused, false);
    } finally {
      await tgt.call('CLIENT', 'UNPAUSE');
      await writer.stop();
    }
    // The setting live sync turned on is back as it was.
    const notify = (await (await source.client()).config('GET', 'notify-keyspace-events')) as string[];
    assert.equal(notify[1], '');
  });

  it('after write_pause, while the repoint waits for a person: the abort unpauses the source', async () => {
    const m = await migration();
    await approve(rt.service, m.id, 'write_pause');
    const gate = await awaiting(rt.service, m.id, 'repoint');
    assert.equal(gate.gate, 'confirmation');
    const app = await source.client();
    assert.equal(await within(app.set('during-pause', '1'), 300), 'pending', 'writes wait while paused');
    // No step is running now: the follower sees the abort flag by itself.
    assert.ok((await rt.service.abort(m.id, 'UBUDDY', 'changed our minds')).ok);
    await assertWritable(await source.client());
    assert.equal(await app.get('during-pause'), '1', 'the held write ran once the pause was lifted');
    const done = await ended(rt.service, m.id);
    assert.equal(done.status, 'aborted');
    const follower = await until('the follower to stop', async () => {
      const s = (await rt.livePhase.store.read(m.id)).status;
      return s?.state === 'stopped' && s;
    });
    assert.match(follower.stoppedBecause ?? '', /aborted by UBUDDY/);
  });
});
