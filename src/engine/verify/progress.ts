// Progress of a verification for the caller's onProgress: at most every 250 ms while scanning
// (forced at phase changes), with keys/s and an ETA. A failing callback never fails the run.
import type { VerifyProgress } from './types.js';

const PROGRESS_INTERVAL_MS = 250;

/** Where the run stands, read each time progress is reported. */
export interface ProgressSnapshot {
  db: number | null;
  keysChecked: number;
  totalKeys: number;
  /** Keys still waiting for a re-check. */
  candidates: number;
  /** Keys found different for good. */
  differentKeys: number;
}

export class ProgressReporter {
  private last = 0;

  constructor(
    private readonly onProgress: ((p: VerifyProgress) => void) | undefined,
    private readonly started: number,
    private readonly snapshot: () => ProgressSnapshot,
  ) {}

  report(phase: VerifyProgress['phase'], force = false, recheckRound?: number): void {
    const onProgress = this.onProgress;
    if (!onProgress) return;
    const now = Date.now();
    if (!force && now - this.last < PROGRESS_INTERVAL_MS) return;
    this.last = now;
    const s = this.snapshot();
    const elapsedMs = now - this.started;
    const keysPerSecond = Math.round((s.keysChecked * 1000) / Math.max(1, elapsedMs));
    const left = Math.max(0, s.totalKeys - s.keysChecked);
    const progress: VerifyProgress = {
      phase,
      db: phase === 'done' ? null : s.db,
      keysChecked: s.keysChecked,
      totalKeys: s.totalKeys,
      differences: s.candidates + s.differentKeys,
      keysPerSecond,
      etaSeconds:
        phase === 'scan' && keysPerSecond > 0
          ? Math.round(left / keysPerSecond)
          : phase === 'done'
            ? 0
            : null,
      elapsedMs,
    };
    if (recheckRound !== undefined) {
      progress.recheckRound = recheckRound;
      progress.recheckKeys = s.candidates;
    }
    try {
      onProgress(progress);
    } catch {
      // A failing progress callback must not fail the verification.
    }
  }
}
