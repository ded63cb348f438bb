import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  flushedDetail,
  SilentDropDetector,
  silentDropReason,
} from '../../../../src/engine/live-sync/silent-drops.js';

const counts = (...pairs: [number, number][]) => new Map(pairs);

function deletes(d: SilentDropDetector, db: number, n: number, event = 'del'): void {
  for (let i = 0; i < n; i++) d.noteEvent(db, event);
}

test('the first sample is only a baseline', () => {
  const d = new SilentDropDetector(null);
  assert.equal(d.lastTotal(), undefined);
  assert.equal(d.sample(counts([0, 1000])), null);
  assert.equal(d.lastTotal(), 1000);
});

test('a drop the delete notifications account for is no silent drop', () => {
  const d = new SilentDropDetector(null);
  d.sample(counts([0, 1000]));
  deletes(d, 0, 60, 'del');
  deletes(d, 0, 30, 'expired');
  deletes(d, 0, 10, 'evicted');
  assert.equal(d.sample(counts([0, 900])), null);
});

test('events that remove nothing are not counted as deletes', () => {
  const d = new SilentDropDetector(null);
  d.sample(counts([0, 1000]));
  deletes(d, 0, 100, 'set');
  const drop = d.sample(counts([0, 900]));
  assert.deepEqual(drop, { db: 0, before: 1000, drop: 100, notified: 0, flushed: false });
});

test('up to 16 keys (or 0.1% of the db) may go unaccounted; more asks for a reconcile pass', () => {
  const d = new SilentDropDetector(null);
  d.sample(counts([0, 1000]));
  assert.equal(d.sample(counts([0, 984])), null);
  const big = new SilentDropDetector(null);
  big.sample(counts([0, 100_000]));
  assert.equal(big.sample(counts([0, 99_900])), null, '100 of 100000 is within 0.1%');
  const drop = big.sample(counts([0, 99_799]));
  assert.equal(drop?.drop, 101);
  assert.equal(drop?.flushed, false);
  assert.match(silentDropReason(drop!), /db 0 lost 101 keys with only 0 delete notifications/);
});

test('a small db that went empty without notifications is noticed, but is no flush', () => {
  const d = new SilentDropDetector(null);
  d.sample(counts([3, 5]));
  assert.deepEqual(d.sample(counts()), { db: 3, before: 5, drop: 5, notified: 0, flushed: false });
  const noticed = new SilentDropDetector(null);
  noticed.sample(counts([3, 5]));
  deletes(noticed, 3, 5);
  assert.equal(noticed.sample(counts()), null, 'every key was deleted with a notification');
});

test('most of a db vanishing silently is a flush; deletes with notifications do not count', () => {
  const d = new SilentDropDetector(null);
  d.sample(counts([0, 1000]));
  const drop = d.sample(counts([0, 100]));
  assert.equal(drop?.flushed, true);
  assert.match(flushedDetail(drop!), /lost 900 of the 1000 keys of db 0 without delete notifications/);
  const trimmed = new SilentDropDetector(null);
  trimmed.sample(counts([0, 1000]));
  deletes(trimmed, 0, 800);
  const partly = trimmed.sample(counts([0, 100]));
  assert.equal(partly?.flushed, false, '100 silent of 1000 is no collapse');
  assert.equal(partly?.notified, 800);
});

test('dbs not followed are ignored, in the verdict and in the total', () => {
  const d = new SilentDropDetector((db) => db === 0);
  d.sample(counts([0, 100], [1, 5000]));
  assert.equal(d.lastTotal(), 100);
  assert.equal(d.sample(counts([0, 100])), null, 'db 1 emptied, but it is not followed');
  assert.equal(d.lastTotal(), 100);
});

test('notifications are counted per db, between samples', () => {
  const d = new SilentDropDetector(null);
  d.sample(counts([0, 1000], [1, 1000]));
  deletes(d, 1, 500);
  const drop = d.sample(counts([0, 500], [1, 500]));
  assert.equal(drop?.db, 0, 'the deletes on db 1 do not cover db 0');
  deletes(d, 0, 100);
  assert.equal(d.sample(counts([0, 400], [1, 500])), null, 'only notifications since the last sample count');
});

test('after reset the next sample is a baseline again', () => {
  const d = new SilentDropDetector(null);
  d.sample(counts([0, 1000]));
  d.reset();
  assert.equal(d.lastTotal(), undefined);
  assert.equal(d.sample(counts([0, 10])), null);
  assert.equal(d.lastTotal(), 10);
});
