import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Waiters } from '../../../../src/engine/live-sync/waiters.js';

test('resolves at once when the condition holds, else on the notify() after it does', async () => {
  const w = new Waiters();
  await w.until(
    () => true,
    undefined,
    () => new Error('no'),
  );
  let ready = false;
  let done = false;
  const p = w
    .until(
      () => ready,
      undefined,
      () => new Error('no'),
    )
    .then(() => {
      done = true;
    });
  w.notify();
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false);
  ready = true;
  w.notify();
  await p;
  assert.equal(done, true);
});

test('times out with the error the caller builds', async () => {
  const w = new Waiters();
  await assert.rejects(
    w.until(
      () => false,
      20,
      () => new Error('timed out draining'),
    ),
    /timed out draining/,
  );
  // A waiter that timed out is gone: a later notify() does not touch it.
  w.notify();
});

test('rejectAll rejects every waiter with the one error', async () => {
  const w = new Waiters();
  const a = w.until(
    () => false,
    10_000,
    () => new Error('timeout'),
  );
  const b = w.until(
    () => false,
    undefined,
    () => new Error('timeout'),
  );
  const failure = new Error('live sync failed');
  w.rejectAll(failure);
  await assert.rejects(a, (err) => err === failure);
  await assert.rejects(b, (err) => err === failure);
});
