// The rate the copy-time estimate divides by. A strategy's own copies between the same two servers
// say best how fast the next one goes: the median of the rates they measured (recorded in the
// control Redis when each copy finished, given here by the use case) when there are any; else a
// per-strategy default. Pure: the rates come in, nothing is read here.
import type { StrategyName } from './types.js';

/** One finished copy, as the step that made it measured it. */
export interface MeasuredRate {
  keysPerSecond: number;
  /** When the copy knew its bytes (dump-restore does; MIGRATE and a full sync do not). */
  bytesPerSecond?: number;
  /** Keys the copy moved (a rate over few keys says little: it is shown with the figure). */
  keys: number;
  /** When the copy finished (ISO). */
  at: string;
}

/** Rates recorded for one source -> target pair, per strategy, newest first. */
export type MeasuredRates = Partial<Record<StrategyName, readonly MeasuredRate[]>>;

/** Without a strategy (a blocked plan) or a rate of any kind: the conservative figure of old. */
export const FALLBACK_KEYS_PER_SECOND = 20_000;

/**
 * Per-strategy defaults, from the README's "Benchmark" section (1,000,000 keys, source, target and
 * tool on one shared 2-core machine): the low end of each measured range, as a real network and a
 * busy source are slower than that loopback.
 * - replication: "Redis full sync (REPLICAOF) 160,000-220,000 keys/s".
 * - dump-restore: "copy 102,000-149,000 keys/s" (the scan path: SCAN, DUMP, PTTL, RESTORE).
 * - psync: "bench:psync" measured the engine's full sync at 0.43x-0.80x of Redis's own in the same
 *   run; half of replication's figure.
 * - migrate: no bench figure of its own; MIGRATE moves the same DUMP payloads, from the source
 *   itself, so the copy's figure is taken.
 */
export const DEFAULT_KEYS_PER_SECOND: Readonly<Record<StrategyName, number>> = {
  replication: 160_000,
  psync: 80_000,
  'dump-restore': 100_000,
  migrate: 100_000,
};

export interface CopyRate {
  keysPerSecond: number;
  /** Where the figure comes from, for people ("measured over 3 runs of dump-restore ..."). */
  from: string;
  /** Recorded runs the figure is the median of (0 when it is a default or was given). */
  measuredRuns: number;
}

/**
 * The rate for `strategy`: `given` (an explicit plan option) wins, then the median of the measured
 * rates of that strategy, then its default.
 */
export function copyRate(strategy: StrategyName | null, measured: MeasuredRates, given?: number): CopyRate {
  if (given !== undefined) {
    return { keysPerSecond: given, from: 'given in the plan options', measuredRuns: 0 };
  }
  if (strategy === null) {
    return {
      keysPerSecond: FALLBACK_KEYS_PER_SECOND,
      from: 'a conservative default (no strategy is possible yet)',
      measuredRuns: 0,
    };
  }
  const rates = (measured[strategy] ?? [])
    .map((r) => r.keysPerSecond)
    .filter((r) => Number.isFinite(r) && r > 0);
  if (rates.length > 0) {
    const runs = rates.length;
    return {
      keysPerSecond: Math.round(median(rates)),
      from: `the median measured over ${runs} ${runs === 1 ? 'run' : 'runs'} of ${strategy} between these servers`,
      measuredRuns: runs,
    };
  }
  return {
    keysPerSecond: DEFAULT_KEYS_PER_SECOND[strategy],
    from: `the ${strategy} default from the README benchmark: no run of it between these servers recorded yet`,
    measuredRuns: 0,
  };
}

/** Seconds to copy `keys` at `rate`, in tenths rounded up: a small copy never shows as no time. */
export function copySecondsAt(keys: number, rate: CopyRate): number {
  return Math.ceil((keys / rate.keysPerSecond) * 10) / 10;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
