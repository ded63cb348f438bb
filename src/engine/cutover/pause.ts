// A short write pause on the source for the cutover: CLIENT PAUSE <ms> WRITE (Redis 6.2+).
// Reads keep working (live sync still reads the source while draining); every write command waits
// until the pause ends. The timeout is a safety net: a copier that crashes mid-cutover never leaves
// the source paused for longer than that.

import type { Redis } from 'ioredis';
import { errorMessage, UserError } from '../../util/errors.js';

export interface WritePause {
  /** Wall-clock time the pause was requested (epoch ms), for reports. */
  startedAt: number;
  /** Monotonic time (performance.now) just before CLIENT PAUSE was sent. */
  startedMono: number;
  timeoutMs: number;
}

export interface ResumeResult {
  /**
   * How long writes were paused, measured from sending CLIENT PAUSE to the reply of CLIENT UNPAUSE:
   * an upper bound of what clients saw.
   */
  pausedMs: number;
  /** True when the safety timeout ran out before the unpause: writes were accepted before the end. */
  expiredBeforeResume: boolean;
}

export const DEFAULT_PAUSE_TIMEOUT_MS = 30_000;

/** Pauses writes on the source; resolves once the pause is in force. */
export async function pauseWrites(source: Redis, options: { timeoutMs?: number } = {}): Promise<WritePause> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PAUSE_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw new RangeError('timeoutMs must be a positive integer');
  const startedAt = Date.now();
  const startedMono = performance.now();
  try {
    await source.call('CLIENT', 'PAUSE', String(timeoutMs), 'WRITE');
  } catch (err) {
    const msg = errorMessage(err);
    if (/syntax|wrong number|unknown/i.test(msg) && !/NOPERM/i.test(msg)) {
      throw new UserError(
        `the source refused CLIENT PAUSE ... WRITE (${msg}): it needs Redis 6.2 or later; without it the ` +
          `cutover cannot stop writes, so repoint the applications during a maintenance window instead`,
      );
    }
    throw new UserError(
      `the source refused CLIENT PAUSE (${msg}): the user needs the permission for it ` +
        `(ACL +client|pause +client|unpause); managed services may block it`,
    );
  }
  return { startedAt, startedMono, timeoutMs };
}

/** Lifts the pause (CLIENT UNPAUSE, Redis 6.2+) and measures how long it lasted. */
export async function resumeWrites(source: Redis, pause?: WritePause): Promise<ResumeResult> {
  await source.call('CLIENT', 'UNPAUSE');
  const pausedMs = pause ? performance.now() - pause.startedMono : 0;
  return { pausedMs, expiredBeforeResume: pause ? pausedMs >= pause.timeoutMs : false };
}

/** Milliseconds left before the safety timeout lifts the pause by itself (may be negative). */
export function pauseRemainingMs(pause: WritePause): number {
  return pause.timeoutMs - (performance.now() - pause.startedMono);
}
