// The follower's write pause on its own (PauseLease), against a real redis-server: renewals keep
// writes paused past one CLIENT PAUSE timeout, lifting lets them through, a pause that ran out is
// reported. Whether writes are paused is judged by an application connection's SET, not by the lease.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { PauseLease } from '../../src/strategies/live-phase/pause-lease.js';
import { createLogger } from '../../src/util/logger.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([promise, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);
}

/** Starts a write from an application connection; it waits while writes are paused. */
function write(app: Redis, key: string): Promise<unknown> {
  const pending = app.set(key, '1');
  pending.catch(() => undefined);
  return pending;
}

describe('PauseLease: the write pause on the source', () => {
  let source: RedisServer;
  let admin: Redis;
  let app: Redis;
  let n = 0;

  before(async () => {
    source = await startRedis();
    admin = await source.client();
    app = await source.client();
  });
  after(async () => {
    await source.stop();
  });

  function lease(timeoutMs: number, method: 'client-pause' | 'manual' = 'client-pause') {
    const warnings: string[] = [];
    const l = new PauseLease({
      connection: admin,
      source: parseEndpointUrl(source.url, 'src'),
      pause: { method, timeoutMs },
      warn: (message) => warnings.push(message),
      logger: createLogger({ level: 'silent' }),
    });
    return { l, warnings };
  }

  it('renewals keep writes paused past one timeout; lifting lets the waiting write through', async () => {
    const { l, warnings } = lease(1200);
    const t0 = Date.now();
    await l.take();
    try {
      assert.equal(l.paused, true);
      const held = write(app, `k${n++}`);
      // Over two CLIENT PAUSE timeouts: only the renewals hold the write back.
      await sleep(3000);
      assert.equal(await within(held, 100), 'pending', 'the write waits past the pause timeout');
      const pausedMs = await l.lift();
      const elapsed = Date.now() - t0;
      assert.equal(await within(held, 5000), 'OK', 'the waiting write ran once the pause was lifted');
      assert.equal(l.paused, false);
      assert.ok(pausedMs >= 3000, `measured ${pausedMs} ms`);
      // Measured on the source's clock between TIME calls made within this interval (1 s slack for rounding).
      assert.ok(pausedMs <= elapsed + 1000, `measured ${pausedMs} ms of ${elapsed} ms`);
      assert.equal(l.lapsed, false, warnings.join('; '));
      assert.deepEqual(warnings, []);
      const fields = l.fields();
      assert.equal(fields.paused, false);
      assert.equal(fields.pauseUntilMs, undefined);
      assert.equal(fields.pauseTimeoutMs, 1200);
      assert.equal(typeof fields.pauseStartedMs, 'number');
    } finally {
      await admin.call('CLIENT', 'UNPAUSE');
    }
  });

  it('lifting a lease that holds nothing measures 0 and sends nothing', async () => {
    const { l, warnings } = lease(600);
    assert.equal(await l.lift(), 0);
    assert.equal(await within(write(app, `k${n++}`), 2000), 'OK');
    assert.deepEqual(warnings, []);
  });

  it('reports a pause that ran out before it was renewed', async () => {
    const { l, warnings } = lease(300);
    await l.take();
    const firstUntil = l.fields().pauseUntilMs;
    try {
      // Hold the event loop past the pause's end: no renewal can run before it runs out.
      const end = Date.now() + 1500;
      while (Date.now() < end) {
        // busy: timers cannot fire
      }
      // The source lifted the pause by itself: an application's write goes through.
      assert.equal(await within(write(app, `k${n++}`), 2000), 'OK', 'the pause ran out');
      // The next renewal notices, then pauses again.
      const deadline = Date.now() + 10_000;
      while (l.fields().pauseUntilMs === firstUntil && Date.now() < deadline) await sleep(20);
      assert.notEqual(l.fields().pauseUntilMs, firstUntil, 'renewed');
      assert.equal(l.lapsed, true, 'the renewal noticed the pause had run out');
      assert.equal(warnings.length, 1, warnings.join('; '));
      assert.match(warnings[0]!, /the write pause ran out at .* before it was renewed/);
      // The lease paused again on that renewal and still holds writes.
      assert.equal(await within(write(app, `k${n++}`), 200), 'pending', 'paused again by the renewal');
      await l.lift();
    } finally {
      await admin.call('CLIENT', 'UNPAUSE');
    }
  });

  it('a takeover says how long the last holder’s pause lapsed, and keeps its start', async () => {
    const { l, warnings } = lease(600);
    const [sec] = (await admin.time()) as unknown as [string, string];
    const startedMs = Number(sec) * 1000 - 5000;
    await l.retake({ pauseStartedMs: startedMs, pauseUntilMs: startedMs + 600 });
    try {
      assert.equal(l.lapsed, true);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /the write pause lapsed for about \d+ ms while no follower renewed it/);
      assert.equal(l.startedAtMs, startedMs, 'measured from the first holder’s start');
      assert.equal(await within(write(app, `k${n++}`), 200), 'pending', 'paused again');
      assert.ok((await l.lift()) >= 5000);
    } finally {
      await admin.call('CLIENT', 'UNPAUSE');
    }
  });

  it('release leaves the pause to its next holder: it ends by itself within its timeout', async () => {
    const { l } = lease(800);
    await l.take();
    try {
      l.release();
      const held = write(app, `k${n++}`);
      assert.equal(await within(held, 200), 'pending', 'still paused after the release');
      assert.equal(await within(held, 5000), 'OK', 'no renewal after the release: the pause ran out');
      assert.equal(l.paused, true, 'the lease does not claim to have lifted it');
    } finally {
      await admin.call('CLIENT', 'UNPAUSE');
    }
  });

  it('a manual pause sends nothing to the source', async () => {
    const { l } = lease(600, 'manual');
    await l.take();
    assert.equal(l.paused, true);
    assert.equal(await within(write(app, `k${n++}`), 2000), 'OK', 'a person stops the writes, not the lease');
    assert.ok((await l.lift()) >= 0);
    assert.equal(l.paused, false);
  });
});
