import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DirtySet } from '../../../../src/engine/live-sync/dirty-set.js';

const b = (s: string) => Buffer.from(s);

test('dedupes per db and keeps the first sequence number', () => {
  const d = new DirtySet(10);
  assert.equal(d.add(0, b('a'), 1, 100), 'added');
  assert.equal(d.add(0, b('a'), 2, 200), 'pending');
  assert.equal(d.add(1, b('a'), 3, 300), 'added');
  assert.equal(d.size, 2);
  assert.equal(d.minSeq(), 1);
  assert.equal(d.oldestSince(), 100);
});

test('binary keys that differ only in high bytes stay distinct', () => {
  const d = new DirtySet(10);
  d.add(0, Buffer.from([0xc3, 0xa9]), 1, 0);
  d.add(0, Buffer.from([0xe9]), 2, 0);
  assert.equal(d.size, 2);
  const batch = d.take(10)!;
  assert.deepEqual(batch.keys, [Buffer.from([0xc3, 0xa9]), Buffer.from([0xe9])]);
});

test('take serves the db holding the oldest change, oldest first, up to max', () => {
  const d = new DirtySet(10);
  d.add(1, b('x'), 1, 0);
  d.add(0, b('a'), 2, 0);
  d.add(1, b('y'), 3, 0);
  d.add(1, b('z'), 4, 0);
  const first = d.take(2)!;
  assert.equal(first.db, 1);
  assert.deepEqual(first.keys.map(String), ['x', 'y']);
  assert.equal(first.minSeq, 1);
  const second = d.take(2)!;
  assert.equal(second.db, 0);
  assert.equal(d.take(5)!.keys.length, 1);
  assert.equal(d.take(5), null);
  assert.equal(d.minSeq(), Infinity);
});

test('overflow is reported once the bound is reached; pending keys are still deduped', () => {
  const d = new DirtySet(2);
  d.add(0, b('a'), 1, 0);
  d.add(0, b('b'), 2, 0);
  assert.equal(d.add(0, b('c'), 3, 0), 'overflow');
  assert.equal(d.add(0, b('a'), 4, 0), 'pending');
  d.clear();
  assert.equal(d.size, 0);
  assert.equal(d.add(0, b('c'), 5, 0), 'added');
});

test('putBack restores a failed batch in front, merged with keys dirtied again meanwhile', () => {
  const d = new DirtySet(10);
  d.add(0, b('a'), 1, 10);
  d.add(0, b('b'), 2, 20);
  const batch = d.take(10)!;
  d.add(0, b('b'), 5, 50);
  d.add(0, b('c'), 6, 60);
  d.putBack(batch);
  assert.equal(d.size, 3);
  assert.equal(d.minSeq(), 1);
  assert.equal(d.oldestSince(), 10);
  const again = d.take(10)!;
  assert.deepEqual(again.keys.map(String), ['a', 'b', 'c']);
  assert.deepEqual(
    again.entries.map(([, e]) => e.seq),
    [1, 2, 6],
  );
});

test('keys in flight are left for a later batch; another db is served if all are busy', () => {
  const d = new DirtySet(10);
  d.add(0, b('a'), 1, 0);
  d.add(0, b('b'), 2, 0);
  d.add(1, b('x'), 3, 0);
  const busyA = (db: number, k: string) => db === 0 && k === 'a';
  assert.deepEqual(d.take(10, busyA)!.keys.map(String), ['b']);
  assert.equal(d.minSeq(), 1, 'the busy key keeps its place and sequence number');
  const allOfDb0Busy = (db: number) => db === 0;
  const other = d.take(10, allOfDb0Busy)!;
  assert.equal(other.db, 1);
  assert.equal(d.take(10, allOfDb0Busy), null);
  assert.deepEqual(d.take(10)!.keys.map(String), ['a']);
});
