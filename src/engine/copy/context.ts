// State shared by the batches of one copy, and what one batch produces.

import { printableKey } from '../../probe/printable-key.js';
import type { Logger } from '../../util/logger.js';
import type { TargetFeatures } from '../types/value.js';
import { ByteBudget } from './budget.js';
import type { FieldTtlPolicy } from './field-ttls.js';
import type { SessionFacts } from './session.js';
import { type CopyCounters, type CopyMode, type KeyError, zeroCounters } from './types.js';

export const DEFAULT_BIG_KEY_THRESHOLD = 64 * 1024 * 1024;
/** Batches (SCAN pages) being copied at once. */
export const MAX_BATCHES = 8;

export interface BatchContext {
  db: number;
  mode: CopyMode;
  /** Keys estimated above this many bytes are copied in chunks. */
  bigKeyThreshold: number;
  /** Longest payload the target takes in one argument (proto-max-bulk-len minus a margin). */
  maxPayload: number;
  features: TargetFeatures;
  /** Hash field TTLs: read, written, dropped or refused (field-ttls.ts). */
  fieldTtls: FieldTtlPolicy;
  /** copyKeySet: a key missing on the source is deleted on the target. */
  deleteMissing: boolean;
  budget: ByteBudget;
  /**
   * MEMORY USAGE before every DUMP (see size-probe.ts); turned off at the first refusal, when
   * only the reply cap guards the copier's memory.
   */
  sizeProbe: boolean;
  /**
   * The database `db` had no key with a TTL when its walk began: DUMPs skip PTTL as long as the
   * source's expiry facts around each page prove it (no-expiry.ts). Off for key sets (live sync).
   */
  noExpiringKeys: boolean;
  /** Budget bytes a batch of unmeasured keys takes, and the cap on its DUMP replies. */
  unsizedBatchBytes: number;
  /** Per RDB version: RESTOREs accepted and rejected, to stop trying a version the target refuses. */
  payloadVersions: Map<number, { ok: number; rejected: number }>;
  /** Bytes per chunk when copying big keys. */
  chunkBytes: number;
  transformPayload?: (key: Buffer, payload: Buffer) => Buffer;
  logger?: Logger;
}

/** The context of a copy between the servers `facts` describe (the threshold capped by what the target takes). */
export function batchContext(
  facts: Pick<SessionFacts, 'targetMaxBulk' | 'features'>,
  options: {
    mode: CopyMode | undefined;
    bigKeyThresholdBytes: number | undefined;
    inFlightBytes: number;
    sizeProbe: boolean;
    deleteMissing: boolean;
    fieldTtls: FieldTtlPolicy;
    transformPayload?: BatchContext['transformPayload'] | undefined;
    logger?: Logger | undefined;
  },
): BatchContext {
  const threshold = Math.min(options.bigKeyThresholdBytes ?? DEFAULT_BIG_KEY_THRESHOLD, facts.targetMaxBulk);
  return {
    db: 0,
    mode: options.mode ?? 'auto',
    bigKeyThreshold: threshold,
    maxPayload: facts.targetMaxBulk,
    features: facts.features,
    deleteMissing: options.deleteMissing,
    fieldTtls: options.fieldTtls,
    budget: new ByteBudget(options.inFlightBytes),
    sizeProbe: options.sizeProbe,
    noExpiringKeys: false,
    unsizedBatchBytes: unsizedBatchBytes(options.inFlightBytes, MAX_BATCHES),
    payloadVersions: new Map(),
    chunkBytes: Math.max(64, Math.min(1024 * 1024, Math.floor(threshold / 4))),
    ...(options.transformPayload ? { transformPayload: options.transformPayload } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  };
}

export interface BatchResult extends CopyCounters {
  keysDeleted: number;
  errors: KeyError[];
}

export function emptyResult(): BatchResult {
  return { ...zeroCounters(), keysDeleted: 0, errors: [] };
}

export function keyError(result: BatchResult, db: number, key: Buffer, reason: string): void {
  result.keysFailed++;
  result.errors.push({ db, key: printableKey(key), reason });
}

/** A per-key failure while writing: recorded, and the copy goes on. */
export class KeyCopyError extends Error {
  override name = 'KeyCopyError';
}

/** Budget share (and reply cap) of one batch of unmeasured keys: the budget over the pages in flight. */
export function unsizedBatchBytes(budgetBytes: number, pagesInFlight: number): number {
  return Math.max(64 * 1024, Math.floor(budgetBytes / pagesInFlight));
}
