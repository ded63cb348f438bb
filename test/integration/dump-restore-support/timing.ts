import type { JobTiming } from '../../../src/jobs/timing.js';
import type { LivePhaseTiming } from '../../../src/strategies/live-phase/index.js';

/** Short live-phase timings for tests (production waits minutes). */
export const LIVE_PHASE_TIMING: Partial<LivePhaseTiming> = {
  statusIntervalMs: 100,
  pollMs: 50,
  caughtUpLagMs: 500,
  subscribeTimeoutMs: 30_000,
  catchUpTimeoutMs: 60_000,
  commandTimeoutMs: 30_000,
  drainTimeoutMs: 20_000,
};

/** Short job timings: a dead worker's steps and follower are taken over within seconds. */
export const JOB_TIMING: Partial<JobTiming> = {
  lockDurationMs: 2000,
  stalledIntervalMs: 1000,
  sweepIntervalMs: 60_000,
  backoffMs: 100,
  progressIntervalMs: 100,
};
