// Turns counters into CopyProgress events: rate over this run (a resumed run's earlier keys do not
// inflate it), ETA against the source's key count, throttled to about four events a second.
import type { CopyCounters, CopyProgress } from './types.js';

const INTERVAL_MS = 250;

export class ProgressTracker {
  private readonly started = Date.now();
  private lastEmit = 0;
  private readonly baseline: number;

  constructor(
    private readonly totalKeys: number,
    startCounters: CopyCounters,
    private readonly onProgress: ((p: CopyProgress) => void) | undefined,
  ) {
    this.baseline = processed(startCounters);
  }

  get elapsedMs(): number {
    return Date.now() - this.started;
  }

  /** Keys per second over this run. */
  rate(counters: CopyCounters): number {
    const seconds = this.elapsedMs / 1000;
    return seconds > 0 ? (processed(counters) - this.baseline) / seconds : 0;
  }

  update(phase: CopyProgress['phase'], db: number | null, counters: CopyCounters, force = false): void {
    if (!this.onProgress) return;
    const now = Date.now();
    if (!force && now - this.lastEmit < INTERVAL_MS) return;
    this.lastEmit = now;
    const rate = this.rate(counters);
    const left = Math.max(0, this.totalKeys - processed(counters));
    const eta = phase === 'done' ? 0 : rate > 0 ? left / rate : null;
    this.onProgress({
      ...counters,
      phase,
      db,
      totalKeys: this.totalKeys,
      keysPerSecond: Math.round(rate),
      etaSeconds: eta === null ? null : Math.round(eta),
      elapsedMs: this.elapsedMs,
    });
  }
}

/** Keys dealt with, whatever the outcome. */
export function processed(c: CopyCounters): number {
  return c.keysCopied + c.keysSkipped + c.keysFailed;
}
