// Public types of verification (contract: .tmp/ENGINE_API.md). Fields beyond the contract are
// additions that callers may ignore.
import type { Logger } from '../../util/logger.js';
import type { DbRemap } from '../db-mapping.js';

/**
 * Expiry times further apart than this are a TTL difference. Derived from measurements on a loaded
 * 2-core machine (bench/ttl-drift.ts, 200,000 keys with TTLs, 5 copies): after our copy the
 * target's PEXPIRETIME was 20-45 ms from the source's at the median and 99-233 ms at worst, in
 * both directions (the copy writes relative TTLs aged by the time it held them: the RESTORE queue
 * and the DUMP queue move them either way). Reading them costs verify nothing with PEXPIRETIME but
 * the clock-offset uncertainty (0.7-38 ms there); PTTLs read on both sides at once were up to
 * 354 ms apart, which is why they are bounded by the reading times instead. Twice the worst copy
 * drift seen.
 */
export const DEFAULT_TTL_TOLERANCE_MS = 500;

export interface VerifyOptions {
  /** 'all' = every database that has keys on the source or on the target. */
  dbs: 'all' | number[];
  /** Source db -> the target db it was copied into (engine/db-mapping.ts); compared with that one. */
  remap?: DbRemap;
  /** SCAN MATCH pattern (glob), applied on both sides. */
  match?: string;
  /** Check this many random keys (half picked on each side) instead of every key. */
  sample?: number;
  /**
   * Expiry times further apart than this are a difference (default DEFAULT_TTL_TOLERANCE_MS). A key present on one side
   * only is no difference either when it expires there within this time: the other server may
   * have expired it first.
   */
  ttlToleranceMs?: number;
  /** How many times a differing key is read again before it is reported (default 3). */
  recheckRounds?: number;
  /** Pause before each re-check round (default 1000 ms). */
  recheckDelayMs?: number;
  /** Sample keys kept per difference class (default 10). */
  maxSamplesPerClass?: number;
  onProgress?: (p: VerifyProgress) => void;
  signal?: AbortSignal;
  logger?: Logger;
  /**
   * 'auto' (default): DUMP payloads when both servers write the same RDB version, type-aware
   * digests otherwise. 'digest': always type-aware (no DUMP at all).
   */
  compareBy?: 'auto' | 'digest';
  /** Keys per SCAN page (SCAN COUNT) and pipeline round (default 1000). */
  batchSize?: number;
  /**
   * Values with more elements than this are compared chunk by chunk (SSCAN, HSCAN, ZRANGE,
   * LRANGE, XRANGE) with digests instead of being read whole (default 1000).
   */
  chunkSize?: number;
  /**
   * With the size probe on (see sizeProbe), keys whose MEMORY USAGE on the source is above this
   * are never dumped: they are compared chunk by chunk. Without it, DUMP payloads over a page's
   * byte cap (16 MiB per server) are drained and compared chunk by chunk instead. 0 turns the
   * probe off whatever sizeProbe says. Default 8 MiB.
   */
  bigKeyThresholdBytes?: number;
  /**
   * MEMORY USAGE before every DUMP: 'auto' (default) only when a huge key's DUMP could exhaust
   * either server's memory (as copy decides it), 'always' whatever their memory.
   */
  sizeProbe?: 'auto' | 'always';
  /** Differing keys kept for re-checks at most; beyond it they are reported unconfirmed (default 100,000). */
  maxRecheckKeys?: number;
  /**
   * Asked once, after the re-checks, about every key still differing: those it says yes to (e.g.
   * keys the apps wrote on the target after the repoint) are counted in `explained`, not as
   * differences. Keys past maxRecheckKeys are never asked: they stay differences. `db` is the
   * target database (another number than the source's under `remap`).
   */
  explain?: (keys: Array<{ db: number; key: Buffer }>) => Promise<boolean[]>;
}

/** 'field-ttl': a hash field's TTL differs (engine/verify/field-ttls.ts), where both servers have field TTLs. */
export type DifferenceClass = 'missing' | 'extra' | 'type' | 'value' | 'ttl' | 'persistence' | 'field-ttl';

export const DIFFERENCE_CLASSES: readonly DifferenceClass[] = [
  'missing',
  'extra',
  'type',
  'value',
  'ttl',
  'persistence',
  'field-ttl',
];

export interface DifferenceSample {
  db: number;
  /** Printable: UTF-8 when valid, otherwise \xNN escaped. */
  key: string;
  detail: string;
}

export interface DbCounts {
  /** The source database. */
  db: number;
  /** The target database compared with it, when not the same number. */
  targetDb?: number;
  sourceKeys: number;
  targetKeys: number;
  /** Keys with a TTL (INFO keyspace `expires`), when the server reports it. */
  sourceExpires?: number;
  targetExpires?: number;
}

export interface VerifyReport {
  /** No difference of any class. */
  identical: boolean;
  /** Distinct keys compared (keys found only on the target count once). */
  keysChecked: number;
  dbs: DbCounts[];
  differences: Record<DifferenceClass, { count: number; samples: DifferenceSample[] }>;
  /**
   * dump: every value was proven equal or different by its DUMP payload; digest: every value was
   * compared type-aware; mixed: payloads first, type-aware where payloads differ or cannot be used.
   */
  comparedBy: 'dump' | 'digest' | 'mixed';
  sampled: boolean;
  durationMs: number;
  keysPerSecond: number;
  /** Values settled by payload equality vs by type-aware comparison. */
  comparisons: { byPayload: number; byType: number };
  /** RDB versions seen in DUMP payloads (null when none was read). */
  rdbVersions: { source: number | null; target: number | null };
  /** Re-check bookkeeping: keys that differed at first sight and how many turned out fine. */
  recheck: { rounds: number; candidates: number; cleared: number; unconfirmed: number };
  /** Keys that differ in at least one class. */
  differentKeys: number;
  /** Whether key sizes were measured (MEMORY USAGE) before DUMP, and why. */
  sizeProbe?: { perKey: boolean; reason: string };
  /**
   * How expiry times were compared: 'expiretime' = absolute (PEXPIRETIME) with the measured clock
   * offset between the servers; 'pttl' = relative, bounded by the time between the reads (reason).
   */
  ttls?: {
    by: 'expiretime' | 'pttl';
    targetClockAheadMs?: number;
    clockUncertaintyMs?: number;
    reason?: string;
  };
  /** With VerifyOptions.explain: differing keys it explained (not counted in differences). */
  explained?: { count: number; samples: DifferenceSample[] };
}

export interface VerifyProgress {
  phase: 'scan' | 'recheck' | 'done';
  db: number | null;
  keysChecked: number;
  /** Keys to check (sum of DBSIZE on the source, or the sample size): an estimate. */
  totalKeys: number;
  /** Keys that differ so far (before re-checks). */
  differences: number;
  keysPerSecond: number;
  etaSeconds: number | null;
  elapsedMs: number;
  /** During 'recheck': the round (1-based) and the keys still differing. */
  recheckRound?: number;
  recheckKeys?: number;
}
