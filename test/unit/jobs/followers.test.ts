import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../src/config/load.js';
import { buildExecutorRegistry } from '../../../src/jobs/executors.js';
import { followerJobId, stepJobId } from '../../../src/jobs/job-ids.js';
import { DEFAULT_TIMING, resolveTiming } from '../../../src/jobs/timing.js';

describe('follower jobs', () => {
  it('have one id per run of a migration, apart from step jobs', () => {
    assert.equal(followerJobId({ migrationId: 'mabc', run: 1 }), 'mb-mabc-follower-r1');
    assert.notEqual(
      followerJobId({ migrationId: 'mabc', run: 2 }),
      followerJobId({ migrationId: 'mabc', run: 1 }),
    );
    assert.doesNotMatch(followerJobId({ migrationId: 'a:b', run: 3 }), /:/);
    assert.notEqual(
      followerJobId({ migrationId: 'mabc', run: 1 }),
      stepJobId({ migrationId: 'mabc', stepId: 'follower', attempt: 1 }),
    );
  });

  it('are taken over within 10 s, and never hold a longer lock than the steps were given', () => {
    // A dead follower's job returns at the first stall check after its lock lapsed.
    assert.ok(DEFAULT_TIMING.followerLockDurationMs + DEFAULT_TIMING.followerStalledIntervalMs <= 8000);
    assert.ok(DEFAULT_TIMING.followerLockDurationMs <= DEFAULT_TIMING.lockDurationMs);
    const test = resolveTiming({ lockDurationMs: 1000, stalledIntervalMs: 500 });
    assert.equal(test.followerLockDurationMs, 1000);
    assert.equal(test.followerStalledIntervalMs, 500);
    assert.equal(resolveTiming({ followerLockDurationMs: 4000 }).followerLockDurationMs, 4000);
  });

  it('the registry runs every step of the live phase', () => {
    const config = parseConfig('endpoints:\n  a:\n    url: redis://127.0.0.1:1\n', 'test.yml', {});
    const kinds = buildExecutorRegistry(config).kinds();
    for (const k of [
      'bulk_copy',
      'live_sync',
      'verify',
      'write_pause',
      'repoint',
      'resume_writes',
      'post_verify',
    ] as const) {
      assert.ok(kinds.includes(k), k);
    }
  });
});
