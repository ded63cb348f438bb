import { DEFAULT_TTL_TOLERANCE_MS } from '../engine/verify/types.js';
import type { PlanOptions } from './types.js';

/** Keys whose serialized size is above this are copied in chunks (HSCAN/SSCAN/ZSCAN/ranges). */
export const DEFAULT_BIG_KEY_THRESHOLD_BYTES = 16 * 1024 * 1024;
/** Each CLIENT PAUSE lasts this long and is renewed until writes resume, so a crashed worker unpauses. */
export const DEFAULT_WRITE_PAUSE_TIMEOUT_MS = 60_000;

/** Verification thresholds written into verify steps (and so bound to their approvals). */
export const VERIFY_THRESHOLDS = {
  /** Key counts (keys minus expiring keys) per db may differ by this much while writes flow. */
  countTolerancePercent: 1,
  /** TTLs are compared with verify's default tolerance (measured copy drift; see there). */
  ttlToleranceMs: DEFAULT_TTL_TOLERANCE_MS,
  /** Keys compared value by value in a sampled verify. */
  sampleSize: 1000,
} as const;

/** Prefix of CLIENT SETNAME for our own connections, so drain checks can ignore them. */
export const OWN_CLIENT_NAME_PREFIX = 'migration-buddy:';

export const DEFAULT_PLAN_OPTIONS: PlanOptions = {
  strategy: 'auto',
  onNonEmptyTarget: 'refuse',
  dbs: 'all',
  byType: false,
  bigKeyThresholdBytes: DEFAULT_BIG_KEY_THRESHOLD_BYTES,
};

export function withDefaults(partial: Partial<PlanOptions> = {}): PlanOptions {
  const out: PlanOptions = { ...DEFAULT_PLAN_OPTIONS };
  for (const [k, v] of Object.entries(partial)) {
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}
