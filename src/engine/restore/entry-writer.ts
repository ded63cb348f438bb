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
