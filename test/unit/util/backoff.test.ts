import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffMs, RETRY_BACKOFF } from '../../../src/util/backoff.js';

test('doubles from the base and stops at the cap', () => {
  const waits = [0, 1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, RETRY_BACKOFF));
  assert.deepEqual(waits, [200, 400, 800, 1600, 3200, 5000, 5000]);
  assert.deepEqual(
    [0, 1, 5, 6].map((n) => backoffMs(n, { baseMs: 100, maxMs: 5000 })),
    [100, 200, 3200, 5000],
  );
});

test('a huge attempt gives the cap, a negative one the base', () => {
  assert.equal(backoffMs(5000, RETRY_BACKOFF), 5000);
  assert.equal(backoffMs(-1, { baseMs: 50, maxMs: 1000 }), 50);
});
