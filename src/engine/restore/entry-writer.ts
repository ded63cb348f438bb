// What writes RDB entries to a target, whichever way: RESTORE of the payloads (restore-writer.ts)
// or native commands from the decoded values (by-type-writer.ts).
import type { RdbEntry } from '../rdb/reader.js';
import type { RestoreCounters } from './restore-writer.js';

export interface EntryWriter {
  readonly counters: RestoreCounters & {
    /** By type: field TTLs not carried over (--drop-field-ttls onto a target without them). */
    fieldTtlsDropped?: number;
    /** By type: pending entries whose message is gone from the stream (XCLAIM cannot recreate them). */
    pendingNotRestored?: number;
  };
  /** Queues one entry; a promise when the caller must wait before adding more. */
  add(entry: RdbEntry): Promise<void> | undefined;
  /** Sends what is queued and waits for every reply. Throws the first fatal error. */
  flush(): Promise<void>;
  /** Waits for what is in flight without raising (after a failure elsewhere). */
  settle(): Promise<void>;
}

/**
 * An entry the writer does not write: of a database not copied, or already expired (counted as
 * skipped or expired).
 */
export function leftOut(
  entry: RdbEntry,
  wanted: ReadonlySet<number> | null,
  now: () => number,
  counters: Pick<RestoreCounters, 'keysSkipped' | 'keysExpired'>,
): boolean {
  if (wanted && !wanted.has(entry.db)) {
    counters.keysSkipped++;
    return true;
  }
  if (entry.expireAtMs !== null && entry.expireAtMs <= now()) {
    counters.keysExpired++;
    return true;
  }
  return false;
}
