import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifySettings } from '../../../../src/engine/verify/settings.js';
import { DEFAULT_TTL_TOLERANCE_MS } from '../../../../src/engine/verify/types.js';
import { UserError } from '../../../../src/util/errors.js';

describe('verifySettings', () => {
  it('fills in the defaults and keeps what was given', () => {
    const s = verifySettings({ dbs: 'all', batchSize: 50, recheckRounds: 0 });
    assert.equal(s.batchSize, 50);
    assert.equal(s.recheckRounds, 0, 'zero is a value, not a missing one');
    assert.equal(s.ttlToleranceMs, DEFAULT_TTL_TOLERANCE_MS);
    assert.equal(s.recheckDelayMs, 1000);
    assert.equal(s.chunkSize, 1000);
    assert.equal(s.maxRecheckKeys, 100_000);
    assert.equal(s.bigKeyThresholdBytes, 8 * 1024 * 1024);
  });

  it('refuses a value out of range, naming it, the bound and what was given', () => {
    const cases: [Parameters<typeof verifySettings>[0], RegExp][] = [
      [{ dbs: 'all', batchSize: 0 }, /^batchSize must be an integer >= 1 \(got 0\)$/],
      [{ dbs: 'all', chunkSize: 1 }, /^chunkSize must be an integer >= 2 \(got 1\)$/],
      [{ dbs: 'all', ttlToleranceMs: 1.5 }, /^ttlToleranceMs must be an integer >= 0 \(got 1.5\)$/],
      [{ dbs: 'all', sample: 0 }, /^sample must be an integer >= 1/],
      [{ dbs: [0, -1] }, /^db must be an integer >= 0 \(got -1\)$/],
      [{ dbs: [] }, /^no database to verify$/],
    ];
    for (const [options, message] of cases) {
      assert.throws(
        () => verifySettings(options),
        (err: unknown) => err instanceof UserError && message.test(err.message),
        message.source,
      );
    }
  });

  it('refuses a remap that does not match the one database it selects', () => {
    assert.throws(() => verifySettings({ dbs: 'all', remap: { from: 3, to: 5 } }));
    assert.doesNotThrow(() => verifySettings({ dbs: [3], remap: { from: 3, to: 5 } }));
  });
});
