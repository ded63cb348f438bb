// Public types of the copy engine (see .tmp/ENGINE_API.md for the contract other parts code against).
import type { Logger } from '../../util/logger.js';
import type { DbRemap } from '../db-mapping.js';
import type { ServerIdentity } from '../identity/index.js';

export type CopyMode = 'auto' | 'dump' | 'by-type';
export type NonEmptyTargetPolicy = 'refuse' | 'replace' | 'flush';

export interface CopyOptions {
  /** 'all' = every database that has keys on the source. */
  dbs: 'all' | number[];
  /** Source db -> another target db (engine/db-mapping.ts); without it each db lands in its own number. */
  remap?: DbRemap;
  /** SCAN MATCH pattern (glob). */
  match?: string;
  /** refuse => UserError naming the non-empty dbs; replace => RESTORE REPLACE; flush => FLUSHDB first. */
  onNonEmptyTarget: NonEmptyTargetPolicy;
  /** auto: RESTORE, per-key fallback to native commands when the target rejects the payload. */
  mode?: CopyMode;
  /** Default 64 MiB, and never above the target's proto-max-bulk-len. */
  bigKeyThresholdBytes?: number;
  /** Keys per SCAN/pipeline round (SCAN COUNT). */
  batchSize?: number;
  /** Resume point; saved after every batch. */
  checkpoint?: CheckpointStore;
  /** Throttled (~4/s) + once at the end. */
  onProgress?: (p: CopyProgress) => void;
  /** Stops after the batches in flight, saves the checkpoint, returns a report with complete=false. */
  signal?: AbortSignal;
  logger?: Logger;
  /** Default true (FUNCTION DUMP/RESTORE). */
  copyFunctions?: boolean;
  /**
   * A target without hash field TTLs gets such hashes with persistent fields instead of the copy
   * refusing them (engine/copy/field-ttls.ts).
   */
  dropFieldTtls?: boolean;
  /**
   * With onNonEmptyTarget 'flush': asked before anything is deleted, with the non-empty target
   * databases; false aborts with a UserError. Without it the flush goes ahead (the caller asked).
   */
  confirmFlush?: (nonEmpty: { db: number; keys: number }[], libraries: string[]) => Promise<boolean>;
  /** Bytes of DUMP payloads in flight at most (default 64 MiB): bounds the copier's memory. */
  maxInFlightBytes?: number;
  /**
   * MEMORY USAGE before every DUMP: 'auto' (default) only when a huge key's DUMP could exhaust
   * the source's memory (see size-probe.ts), 'always' to keep DUMP off keys over the big-key
   * threshold whatever the source's memory (a DUMP of a huge key also stalls the source).
   */
  sizeProbe?: 'auto' | 'always';
  /** Reconnect attempts after a dropped connection before the run stops (default 5). */
  maxReconnects?: number;
  /**
   * Test hook: rewrites DUMP payloads before RESTORE (e.g. to simulate a newer source). Not for
   * production use.
   */
  transformPayload?: (key: Buffer, payload: Buffer) => Buffer;
}

export interface CheckpointStore {
  load(): Promise<CopyCheckpoint | undefined>;
  save(cp: CopyCheckpoint): Promise<void>;
}

export interface CopyCounters {
  /** Keys written to the target, by any path (includes the two counters below). */
  keysCopied: number;
  /** DUMP payload bytes (or value bytes for by-type and chunked copies) written. */
  bytesCopied: number;
  /** Keys that vanished or expired between SCAN and the copy (not written). */
  keysSkipped: number;
  /** Keys that could not be copied; each is listed in the report's errors. */
  keysFailed: number;
  /** Keys copied with native commands (forced by mode 'by-type', or the target rejected the payload). */
  keysByTypeFallback: number;
  /** Big keys copied in chunks through a temporary key. */
  bigKeysChunked: number;
  /** Hash fields copied without their TTL (--drop-field-ttls to a target without field TTLs). */
  fieldTtlsDropped?: number;
}

export interface CopyCheckpoint {
  version: 1;
  dbs: { db: number; cursor: string; done: boolean }[];
  functionsDone: boolean;
  counters: CopyCounters;
  /** Which copy this is: resuming with other endpoints or options is refused. */
  fingerprint: CopyFingerprint;
  /** The non-empty-target decision was taken (checked, flushed or replace): a resume skips it. */
  targetPrepared: boolean;
  policy: NonEmptyTargetPolicy;
  functions: { libraries: number; action: string; notCopied?: string } | null;
  complete: boolean;
  errors: KeyError[];
  errorsOmitted: number;
  startedAt: string;
  updatedAt: string;
  /**
   * Who source and target were when this copy's progress began to count (absent in checkpoints
   * of older versions; the target's key count is the one at the last check). A resume against
   * another source is refused; against a target that restarted or lost its keys, the copy starts
   * over.
   */
  identity?: { source: ServerIdentity; target: ServerIdentity };
  /** Why the copy started over from the first key (target restarted, lost keys), oldest first. */
  restarts?: string[];
}

export interface CopyFingerprint {
  source: string;
  target: string;
  dbs: 'all' | number[];
  match: string | null;
}

export interface CopyProgress extends CopyCounters {
  phase: 'functions' | 'keys' | 'done';
  db: number | null;
  /** Source keys in the selected dbs (INFO keyspace); an estimate with --match. */
  totalKeys: number;
  keysPerSecond: number;
  etaSeconds: number | null;
  elapsedMs: number;
}

export interface KeyError {
  db: number;
  /** Printable: UTF-8 when valid, otherwise \xNN escaped. */
  key: string;
  reason: string;
}

export interface CopyReport extends CopyCounters {
  dbs: number[];
  /** Set when the source db was copied into another target db. */
  remap?: DbRemap;
  functions: { libraries: number; action: string; notCopied?: string } | null;
  /** Capped (see errorsOmitted). */
  errors: KeyError[];
  errorsOmitted: number;
  durationMs: number;
  keysPerSecond: number;
  peakRssBytes?: number;
  /** False when stopped early (aborted); the checkpoint, if any, resumes it. */
  complete: boolean;
  /** This run resumed from a checkpoint. */
  resumed: boolean;
  /** Whether keys were measured (MEMORY USAGE) before DUMP, and why. */
  sizeProbe?: { perKey: boolean; reason: string };
  /** Why the copy started over from the first key (the target restarted or lost keys). */
  restarts?: string[];
  /** Source and target as they were at the start (and after a restart, the target since). */
  identity?: { source: ServerIdentity; target: ServerIdentity };
}

/** Result of copyKeySet: the counters plus keys deleted on the target because the source lacks them. */
export interface KeySetCounters extends CopyCounters {
  keysDeleted: number;
  errors: KeyError[];
}

export function zeroCounters(): CopyCounters {
  return {
    keysCopied: 0,
    bytesCopied: 0,
    keysSkipped: 0,
    keysFailed: 0,
    keysByTypeFallback: 0,
    bigKeysChunked: 0,
  };
}

export function addCounters(into: CopyCounters, add: CopyCounters): void {
  into.keysCopied += add.keysCopied;
  into.bytesCopied += add.bytesCopied;
  into.keysSkipped += add.keysSkipped;
  into.keysFailed += add.keysFailed;
  into.keysByTypeFallback += add.keysByTypeFallback;
  into.bigKeysChunked += add.bigKeysChunked;
  if (add.fieldTtlsDropped) into.fieldTtlsDropped = (into.fieldTtlsDropped ?? 0) + add.fieldTtlsDropped;
}
