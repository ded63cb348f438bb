import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stepJobId } from '../../../src/jobs/job-ids.js';
import { DEFAULT_TIMING, resolveTiming } from '../../../src/jobs/timing.js';

describe('step job ids', () => {
  it('are deterministic per migration, step and run', () => {
    const ref = { migrationId: 'mabc123', stepId: '3-verify', attempt: 1 };
    assert.equal(stepJobId(ref), 'mb-mabc123-3-verify-a1');
    assert.equal(stepJobId({ ...ref }), stepJobId(ref));
    assert.notEqual(stepJobId({ ...ref, attempt: 2 }), stepJobId(ref));
    assert.notEqual(stepJobId({ ...ref, stepId: '4-verify' }), stepJobId(ref));
  });

  it('never contain a colon and are never all digits (BullMQ rules)', () => {
    const id = stepJobId({ migrationId: '123', stepId: 'a:b c', attempt: 7 });
    assert.doesNotMatch(id, /:/);
    assert.doesNotMatch(id, /^\d+$/);
    assert.equal(id, 'mb-123-a_b_c-a7');
  });
});

describe('timing', () => {
  it('defaults to production values, overridable one by one', () => {
    assert.equal(DEFAULT_TIMING.lockDurationMs, 5000);
    // A dead worker's step is back on the queue by lock + one stall interval: under 10 s with pick-up.
    assert.ok(DEFAULT_TIMING.lockDurationMs + DEFAULT_TIMING.stalledIntervalMs <= 8000);
    const t = resolveTiming({ lockDurationMs: 1000 });
    assert.equal(t.lockDurationMs, 1000);
    assert.equal(t.stalledIntervalMs, DEFAULT_TIMING.stalledIntervalMs);
  });
});
