import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PendingChanges } from '../../../../src/engine/live-sync/pending-changes.js';

const b = (s: string) => Buffer.from(s);
const keys = (batch: { keys: Buffer[] } | null) => batch?.keys.map((k) => k.toString()) ?? null;

test('a key in flight is not handed out again until its batch settles', () => {
  const p = new PendingChanges(100);
  p.add(0, b('a'), 1, 10);
  p.add(0, b('b'), 2, 20);
  const first = p.take(10)!;
  assert.deepEqual(keys(first), ['a', 'b']);
  // Changed again during the copy: dirty again, but busy.
  p.add(0, b('a'), 3, 30);
  p.add(0, b('c'), 4, 40);
  assert.deepEqual(keys(p.take(10)), ['c']);
  assert.equal(p.take(10), null);
  p.settle(first);
  assert.deepEqual(keys(p.take(10)), ['a']);
});

test('the barrier sequence, the count and the oldest change include batches in flight', () => {
  const p = new PendingChanges(100);
  p.add(0, b('a'), 1, 10);
  p.add(1, b('b'), 2, 20);
  const batch = p.take(1)!;
  assert.equal(batch.db, 0);
  assert.equal(p.waiting, 1);
  assert.equal(p.batchesInFlight, 1);
  assert.equal(p.count(), 2);
  assert.equal(p.minSeq(), 1);
  assert.equal(p.oldestSince(), 10);
  p.settle(batch);
  assert.equal(p.count(), 1);
  assert.equal(p.minSeq(), 2);
  assert.equal(p.oldestSince(), 20);
  p.settle(p.take(10)!);
  assert.equal(p.count(), 0);
  assert.equal(p.minSeq(), Infinity);
  assert.equal(p.oldestSince(), null);
});

test('a failed batch goes back in front and stays busy until it settles', () => {
  const p = new PendingChanges(100);
  p.add(0, b('a'), 1, 10);
  const batch = p.take(10)!;
  p.add(0, b('z'), 2, 20);
  p.putBack(batch);
  assert.equal(p.minSeq(), 1);
  assert.deepEqual(keys(p.take(10)), ['z'], 'a is still busy during the back-off');
  p.settle(batch);
  assert.deepEqual(keys(p.take(10)), ['a']);
});

test('dropping the dirty keys leaves batches in flight alone', () => {
  const p = new PendingChanges(2);
  p.add(0, b('a'), 1, 10);
  const batch = p.take(10)!;
  p.add(0, b('b'), 2, 20);
  p.add(0, b('c'), 3, 30);
  assert.equal(p.add(0, b('d'), 4, 40), 'overflow');
  p.dropDirty();
  assert.equal(p.waiting, 0);
  assert.equal(p.batchesInFlight, 1);
  assert.equal(p.minSeq(), 1);
  p.settle(batch);
  assert.equal(p.count(), 0);
});
