import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sleep, sleepOrAbort } from '../../../src/util/sleep.js';

// Bounds are loose on purpose: these check which way a wait ends, not how fast the machine is.
test('sleep waits about the time asked', async () => {
  const started = Date.now();
  await sleep(50);
  assert.ok(Date.now() - started >= 45);
});

test('sleep: an abort ends the wait early and quietly', async () => {
  const ac = new AbortController();
  const started = Date.now();
  setTimeout(() => ac.abort(new Error('stop')), 20);
  await sleep(60_000, ac.signal);
  assert.ok(Date.now() - started < 10_000);
  await sleep(60_000, ac.signal); // already aborted: returns at once
});

test('sleepOrAbort rejects with the signal reason, during or before the wait', async () => {
  const reason = new Error('stopped by the operator');
  const ac = new AbortController();
  setTimeout(() => ac.abort(reason), 20);
  await assert.rejects(sleepOrAbort(60_000, ac.signal), (err) => err === reason);
  await assert.rejects(sleepOrAbort(0, ac.signal), (err) => err === reason);
  await sleepOrAbort(5, new AbortController().signal);
  await sleepOrAbort(5);
});
