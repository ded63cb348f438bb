// Waiting a while, built on node:timers/promises. Two ways an abort may end the wait, because
// callers differ: loops that check their signal right after (they want a quiet early return) and
// steps that must stop at once with the abort's own reason (the caller tells reasons apart).
import { setTimeout as delay } from 'node:timers/promises';

/** Waits `ms`; an abort (before or during the wait) ends it early without an error. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return;
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch (err) {
    if (!signal?.aborted) throw err;
  }
}

/** Waits `ms`, or rejects with `signal.reason` when the signal aborts (before or during the wait). */
export async function sleepOrAbort(ms: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw err;
  }
}
