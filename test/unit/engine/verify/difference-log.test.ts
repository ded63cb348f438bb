import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DifferenceLog } from '../../../../src/engine/verify/difference-log.js';

describe('DifferenceLog', () => {
  it('keeps one entry per db and key, with the latest finding', () => {
    const log = new DifferenceLog(100, 10);
    log.add(0, Buffer.from('k'), [{ cls: 'missing', detail: 'first' }]);
    log.add(0, Buffer.from('k'), [{ cls: 'value', detail: 'second' }]);
    log.add(1, Buffer.from('k'), [{ cls: 'extra', detail: 'other db' }]);
    assert.equal(log.size, 2);
    const result = log.finish();
    assert.equal(result.missing.count, 0);
    assert.deepEqual(result.value.samples, [{ db: 0, key: 'k', detail: 'second' }]);
    assert.equal(result.extra.count, 1);
    assert.equal(log.differentKeys, 2);
  });

  it('copies keys, so SCAN reply buffers are not retained or mutated under it', () => {
    const log = new DifferenceLog(100, 10);
    const chunk = Buffer.from('xxkeyxx');
    const key = chunk.subarray(2, 5);
    log.add(0, key, [{ cls: 'missing', detail: '' }]);
    chunk.fill(0x41);
    const [candidate] = log.byDb().get(0)!;
    assert.equal(candidate!.key.toString(), 'key');
  });

  it('forgets keys that were fine at a re-check', () => {
    const log = new DifferenceLog(100, 10);
    log.add(0, Buffer.from('a'), [{ cls: 'missing', detail: '' }]);
    log.add(0, Buffer.from('b'), [{ cls: 'missing', detail: '' }]);
    const [a, b] = log.byDb().get(0)!;
    log.update(a!, []);
    log.update(b!, [{ cls: 'ttl', detail: 'still' }]);
    const result = log.finish();
    assert.equal(result.missing.count, 0);
    assert.equal(result.ttl.count, 1);
    assert.equal(log.differentKeys, 1);
  });

  it('tallies past the cap without keeping the keys, and caps samples', () => {
    const log = new DifferenceLog(2, 3);
    for (let i = 0; i < 10; i++) log.add(0, Buffer.from(`k${i}`), [{ cls: 'missing', detail: '' }]);
    assert.equal(log.size, 2);
    assert.equal(log.unconfirmed, 8);
    assert.equal(log.candidatesSeen, 2);
    const result = log.finish();
    assert.equal(result.missing.count, 10);
    assert.equal(result.missing.samples.length, 3);
  });

  it('shows binary keys escaped', () => {
    const log = new DifferenceLog(10, 10);
    log.add(0, Buffer.from([0xff, 0x0a, 0x5c]), [{ cls: 'extra', detail: '' }]);
    assert.equal(log.finish().extra.samples[0]!.key, '\\xff\\x0a\\\\');
  });
});
