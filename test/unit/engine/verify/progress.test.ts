import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressReporter, type ProgressSnapshot } from '../../../../src/engine/verify/progress.js';
import type { VerifyProgress } from '../../../../src/engine/verify/types.js';

function reporter(snapshot: ProgressSnapshot, startedAgoMs = 10_000) {
  const seen: VerifyProgress[] = [];
  const r = new ProgressReporter(
    (p) => seen.push(p),
    Date.now() - startedAgoMs,
    () => snapshot,
  );
  return { r, seen };
}

describe('ProgressReporter', () => {
  it('reports at most every 250 ms unless forced', () => {
    const { r, seen } = reporter({ db: 0, keysChecked: 10, totalKeys: 100, candidates: 0, differentKeys: 0 });
    r.report('scan');
    r.report('scan');
    assert.equal(seen.length, 1, 'the second report came within 250 ms');
    r.report('recheck', true, 1);
    assert.equal(seen.length, 2, 'a forced report always goes out');
  });

  it('says how far along the scan is, with keys/s and an ETA from them', () => {
    const { r, seen } = reporter(
      { db: 2, keysChecked: 5000, totalKeys: 15_000, candidates: 3, differentKeys: 4 },
      10_000,
    );
    r.report('scan', true);
    const p = seen[0]!;
    assert.equal(p.phase, 'scan');
    assert.equal(p.db, 2);
    assert.equal(p.keysChecked, 5000);
    assert.equal(p.totalKeys, 15_000);
    assert.equal(p.differences, 7, 'keys still to re-check and keys different for good');
    // About 500 keys/s over about 10 s: 10,000 keys left take about 20 s.
    assert.ok(p.keysPerSecond > 400 && p.keysPerSecond <= 500, String(p.keysPerSecond));
    assert.ok(p.etaSeconds !== null && p.etaSeconds >= 20 && p.etaSeconds < 26, String(p.etaSeconds));
    assert.equal(p.recheckRound, undefined);
  });

  it('names the re-check round and its keys, and ends with no db and no time left', () => {
    const { r, seen } = reporter({ db: 1, keysChecked: 10, totalKeys: 10, candidates: 2, differentKeys: 0 });
    r.report('recheck', true, 2);
    r.report('done', true);
    assert.equal(seen[0]!.recheckRound, 2);
    assert.equal(seen[0]!.recheckKeys, 2);
    assert.equal(seen[0]!.etaSeconds, null, 'no ETA while re-checking');
    assert.equal(seen[1]!.db, null);
    assert.equal(seen[1]!.etaSeconds, 0);
  });

  it('a callback that throws does not fail the verification', () => {
    const r = new ProgressReporter(
      () => {
        throw new Error('boom');
      },
      Date.now(),
      () => ({ db: 0, keysChecked: 0, totalKeys: 0, candidates: 0, differentKeys: 0 }),
    );
    assert.doesNotThrow(() => r.report('scan', true));
  });
});
