/** Lock, stall, retry and sweep timings. Production defaults; tests shrink them to seconds. */
export interface JobTiming {
  /** BullMQ lock and our step lease: a silent worker loses its step after this long. */
  lockDurationMs: number;
  /** How often workers look for stalled jobs (those whose lock lapsed). */
  stalledIntervalMs: number;
  /**
   * Stalls tolerated before BullMQ fails a job. Kept high: our own fencing makes a re-run safe,
   * and a failed-by-stall job would leave its step without a worker.
   */
  maxStalledCount: number;
  /** Tries per step run for transient errors (connection refused, timeouts). */
  attempts: number;
  /** First retry delay; doubles each time. */
  backoffMs: number;
  /** How often approvals are expired and lost enqueues repaired. */
  sweepIntervalMs: number;
  /** Minimum time between progress publications of one step. */
  progressIntervalMs: number;
  /** Graceful shutdown bound: after it, running jobs are abandoned to stall recovery. */
  shutdownTimeoutMs: number;
  /**
   * Lock (and lease) of follower jobs. Shorter than a step's: a dead follower must be replaced well
   * within the write pause's timeout, or the pause lapses before the new one renews it.
   */
  followerLockDurationMs: number;
  /** How often workers look for stalled follower jobs. */
  followerStalledIntervalMs: number;
}

/**
 * A SIGKILLed worker's step or follower is taken over within about lockDuration + stalledInterval
 * (BullMQ moves a job back to wait at the first stall check after its lock lapsed) plus a pick-up:
 * 5 s + 2 s keeps that under 10 s. A worker whose event loop stalls longer than the lock may see its
 * job run elsewhere meanwhile: the step's and the follower's epochs fence the late one out.
 */
export const DEFAULT_TIMING: JobTiming = {
  lockDurationMs: 5_000,
  stalledIntervalMs: 2_000,
  maxStalledCount: 10,
  attempts: 5,
  backoffMs: 2_000,
  sweepIntervalMs: 15_000,
  progressIntervalMs: 1_000,
  shutdownTimeoutMs: 30_000,
  followerLockDurationMs: 5_000,
  followerStalledIntervalMs: 2_000,
};

export function resolveTiming(partial: Partial<JobTiming> = {}): JobTiming {
  const timing = { ...DEFAULT_TIMING, ...partial };
  // Shorter step timings (tests, --lock-duration) shorten the followers' too, unless set.
  timing.followerLockDurationMs =
    partial.followerLockDurationMs ?? Math.min(DEFAULT_TIMING.followerLockDurationMs, timing.lockDurationMs);
  timing.followerStalledIntervalMs =
    partial.followerStalledIntervalMs ??
    Math.min(DEFAULT_TIMING.followerStalledIntervalMs, timing.stalledIntervalMs);
  return timing;
}
