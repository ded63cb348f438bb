// Without change capture (notifications off and CONFIG blocked, as on managed services), the plan
// pauses writes first and copies under the pause: preflight -> write_pause -> bulk_copy -> verify
// -> repoint -> resume_writes -> post_verify. The follower runs in pause-only mode and renews the
// pause (a short CLIENT PAUSE timeout here) until resume_writes, through the copy and the gates.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Runtime, WorkerPool } from '../../src/jobs/runtime.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { compareServers } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { fillEveryType } from './copy-fixtures.js';
import {
  approve,
  assertWritesOnTarget,
  awaiting,
  confirm,
  ended,
  explain,
  inProcessWorkers,
  killChildren,
  planFor,
  startWriter,
  stepOf,
} from './dump-restore-support/helpers.js';

const PAUSE_TIMEOUT_MS = 2000;
/** How long the buddy takes to approve the copy: more than two pause timeouts. */
const HELD_MS = 4500;

describe('dump-restore without notifications: pause first, copy under the pause', () => {
  let control: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let rt: Runtime;
  let pool: WorkerPool;

  before(async () => {
    [control, source, target] = await Promise.all([
      startRedis(),
      startRedis({ configLines: ['rename-command CONFIG ""'] }),
      startRedis(),
    ]);
    const db = await source.client();
    await fillEveryType(db, 'seed:');
    const pipe = db.pipeline();
    for (let i = 0; i < 5000; i++) pipe.set(Buffer.from([0x62, i & 0xff, (i >> 8) & 0xff, 0xff]), `v${i}`);
    await pipe.exec();
    ({ rt, pool } = await inProcessWorkers(
      { control, source, target },
      { prefix: 'pausefirst', workerId: 'pause-first-worker' },
    ));
  });

  after(async () => {
    killChildren();
    await pool?.close(5000);
    await rt?.close();
    await Promise.all([control?.stop(), source?.stop(), target?.stop()]);
  });

  it('holds the pause through the copy and the gates; every acknowledged write is on the target', async (t) => {
    const plan = await planFor(parseEndpointUrl(source.url, 'src'), parseEndpointUrl(target.url, 'dst'), {
      // Short, so that renewals matter; long enough that a loaded machine's event-loop stalls
      // (CI shares 2 cores) do not outlast it between two renewals.
      writePauseTimeoutMs: PAUSE_TIMEOUT_MS,
    });
    assert.equal(plan.liveSync, 'none');
    assert.deepEqual(
      plan.steps.map((s) => s.kind),
      ['preflight', 'write_pause', 'bulk_copy', 'verify', 'repoint', 'resume_writes', 'post_verify'],
    );
    const { service } = rt;
    const m = await service.create({
      source: 'src',
      target: 'dst',
      plan,
      requester: 'UREQ',
      buddy: 'UBUDDY',
    });
    const writer = await startWriter(source.url, 5);
    await writer.acked(100);
    assert.ok((await service.start(m.id, 'UREQ')).ok);
    await approve(service, m.id, 'write_pause');
    const copyGate = await awaiting(service, m.id, 'bulk_copy');
    const follower = (await rt.livePhase.store.read(m.id)).status!;
    assert.equal(follower.mode, 'pause-only');
    assert.equal(follower.state, 'paused');
    // The buddy takes a while to approve the copy: several pause timeouts go by.
    const ackedAtPause = writer.count();
    await new Promise((r) => setTimeout(r, HELD_MS));
    assert.ok(writer.count() <= ackedAtPause + 50, 'writes are held through renewals');
    assert.ok((await service.approve(m.id, copyGate.id, 'UBUDDY', copyGate.hash)).ok);
    await awaiting(service, m.id, 'repoint').catch(async (err: Error) => {
      // What the follower saw of its pause (a lapse is the usual way writes get past it).
      const status = (await rt.livePhase.store.read(m.id)).status;
      throw new Error(`${err.message}; follower warnings: ${JSON.stringify(status?.warnings ?? [])}`);
    });
    writer.redirect();
    await confirm(service, m.id, 'repoint');
    await writer.settled;
    const done = await ended(service, m.id);
    assert.equal(done.status, 'succeeded', explain(done));
    assert.match(stepOf(done, 'verify').summary ?? '', /^identical/);
    assert.match(stepOf(done, 'post_verify').summary ?? '', /^identical/);
    const resume = stepOf(done, 'resume_writes').result as { pausedMs: number; pauseLapsed: boolean };
    assert.equal(resume.pauseLapsed, false);
    assert.ok(resume.pausedMs >= HELD_MS, `paused ${resume.pausedMs} ms`);
    const writes = await writer.stop();
    assert.equal(writes.unacked.length, 1, 'the write held by the pause never ran on the source');
    const checked = await assertWritesOnTarget(writes, await target.client());
    // The copy ages each TTL from when its read was sent, so a target key never outlives its source
    // key; on a loaded machine the read's reply can take seconds, and the target's TTL is shorter by
    // up to that much (seen: 1.8 s). The bound says "the same TTL", not how fast the machine was.
    assert.deepEqual((await compareServers(source, target, { ttlToleranceMs: 3000 })).slice(0, 10), []);
    t.diagnostic(
      `${writes.acked} acknowledged writes (${checked} keys checked); pause ${resume.pausedMs} ms with a ` +
        `${PAUSE_TIMEOUT_MS / 1000} s CLIENT PAUSE timeout renewed by the follower`,
    );
  });
});
