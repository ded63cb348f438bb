// The wait before a retry, one formula for every retry loop: doubling from a base, capped.

export interface BackoffOptions {
  /** The wait before the first retry (attempt 0). */
  baseMs: number;
  /** No wait is longer than this. */
  maxMs: number;
}

/** `baseMs * 2 ** attempt`, at most `maxMs` (attempt counts from 0; a huge attempt gives maxMs). */
export function backoffMs(attempt: number, { baseMs, maxMs }: BackoffOptions): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempt), maxMs);
}

/** What the engine's retry loops use: 200 ms, 400 ms, ... up to 5 s. */
export const RETRY_BACKOFF: BackoffOptions = { baseMs: 200, maxMs: 5000 };
