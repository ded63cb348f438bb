import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SkippedBulk } from '../../../../src/engine/resp/reply.js';
import { READ_BYTES, readSizer } from '../../../../src/engine/verify/read-size.js';
import { wholeElements } from '../../../../src/engine/verify/read-value.js';

const MiB = 1024 * 1024;

describe('readSizer', () => {
  it('asks for as many elements as fit in the budget, up to the chunk size', () => {
    const s = readSizer(1000);
    assert.equal(s.count, 1, 'one element first: the value is big, its elements may be');
    assert.equal(s.cap, READ_BYTES);
    assert.equal(readSizer(1000, 0).count, 1000, 'nothing big seen yet: the chunk size');
    s.saw(100);
    assert.equal(s.count, 1000);
    s.saw(MiB);
    assert.equal(s.count, Math.floor(READ_BYTES / MiB));
    assert.equal(s.cap, READ_BYTES);
  });

  it('reads an element bigger than the budget on its own, without a cap, then goes back', () => {
    const s = readSizer(1000);
    s.saw(5 * READ_BYTES, true);
    assert.equal(s.count, 1);
    assert.equal(s.cap, Number.POSITIVE_INFINITY);
    s.saw(10);
    assert.equal(s.cap, READ_BYTES);
    assert.equal(s.count, 1000);
  });

  it('reads a cut page whole when no fewer elements can be asked for (SCAN buckets)', () => {
    const s = readSizer(1000, 100);
    s.saw(MiB, true); // 1000 asked, cut: fewer next time, still capped
    assert.equal(s.count, 2);
    assert.equal(s.cap, READ_BYTES);
    s.saw(MiB, true); // 2 asked, a bucket gave 3: no progress by asking for fewer
    assert.equal(s.count, 2);
    assert.equal(s.cap, Number.POSITIVE_INFINITY);
    s.saw(MiB);
    assert.equal(s.cap, READ_BYTES);
  });
});

describe('wholeElements', () => {
  it('counts the elements before the first drained part, and the biggest element', () => {
    const b = (n: number) => Buffer.alloc(n);
    assert.deepEqual(wholeElements([b(3), b(5)], 1), { whole: 2, biggest: 5 });
    assert.deepEqual(wholeElements([b(3), new SkippedBulk(9), b(4)], 1), { whole: 1, biggest: 9 });
    // zset member/score pairs: a drained member cuts at its pair.
    assert.deepEqual(wholeElements([b(2), b(1), new SkippedBulk(7), b(1)], 2), { whole: 1, biggest: 8 });
    assert.deepEqual(wholeElements([], 2), { whole: 0, biggest: 0 });
  });
});
