import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allocateSamples } from '../../../src/probe/big-keys.js';

const db = (n: number, keys: number) => ({ db: n, keys, expires: 0, avgTtlMs: 0 });

describe('allocateSamples', () => {
  it('takes every key when there are fewer than the budget', () => {
    assert.deepEqual(
      [...allocateSamples([db(0, 10), db(3, 5)], 100)],
      [
        [0, 10],
        [3, 5],
      ],
    );
  });

  it('splits the budget in proportion to key counts, at least one per db', () => {
    const out = allocateSamples([db(0, 900_000), db(1, 99_990), db(2, 10)], 10_000);
    assert.equal(out.get(0), 9_000);
    assert.equal(out.get(1), 999);
    assert.equal(out.get(2), 1);
    const total = [...out.values()].reduce((a, b) => a + b, 0);
    assert.ok(total <= 10_001);
  });

  it('skips empty databases', () => {
    assert.deepEqual([...allocateSamples([db(0, 0)], 10)], []);
  });
});
