// Keys that vanish from the source without notifications: FLUSHALL, FLUSHDB and SWAPDB publish
// none, and a source that is a replica publishes none when it reloads after a full resync.
//
// A cheap detector: INFO keyspace counts, sampled now and then, compared with the delete
// notifications received in between. It needs a drop of more than 0.1% of the db (at least 16 keys)
// or a db that went empty, so emptying a very small db can go unnoticed until the final verification.
// When most of a db (collapsed(): more than half, at least 16 keys) vanished silently, the source was
// flushed under the migration: LiveSync fails instead of following it, so the target keeps its keys.
// Otherwise a reconcile pass brings the target in line.

import { collapsed } from '../identity/index.js';
import { KEY_REMOVING_EVENTS } from './channels.js';

/** A db that lost more keys than its delete notifications account for. */
export interface SilentDrop {
  db: number;
  /** Keys at the previous sample. */
  before: number;
  /** Keys gone since, by the counts. */
  drop: number;
  /** Delete notifications received for it since. */
  notified: number;
  /** Flushed rather than trimmed: most of the db vanished without a notification. */
  flushed: boolean;
}

interface Sample {
  keys: Map<number, number>;
  removed: Map<number, number>;
}

export class SilentDropDetector {
  /** Notifications that may have removed a key, per db, since the start. */
  private readonly removedByDb = new Map<number, number>();
  private last: Sample | null = null;

  /** `followed` leaves out the dbs live sync does not follow (null: every db). */
  constructor(private readonly followed: ((db: number) => boolean) | null) {}

  /** Every notification goes through here, before any filtering. */
  noteEvent(db: number, event: string): void {
    if (KEY_REMOVING_EVENTS.has(event)) this.removedByDb.set(db, (this.removedByDb.get(db) ?? 0) + 1);
  }

  /** After a gap in the notifications, deletes went uncounted: the comparison starts over. */
  reset(): void {
    this.last = null;
  }

  /** Keys of the followed dbs at the last sample (undefined before the first or after a reset). */
  lastTotal(): number | undefined {
    if (!this.last) return undefined;
    let n = 0;
    for (const [db, k] of this.last.keys) if (!this.followed || this.followed(db)) n += k;
    return n;
  }

  /**
   * Takes a sample of INFO keyspace. Call it once every notification for a change made before that
   * INFO has been received (noteEvent). Returns the first followed db whose keys dropped silently
   * since the last sample, or null (always null for the first sample).
   */
  sample(keys: Map<number, number>): SilentDrop | null {
    const removed = new Map(this.removedByDb);
    const prev = this.last;
    this.last = { keys, removed };
    if (!prev) return null;
    const dbs = new Set([...prev.keys.keys(), ...keys.keys()]);
    for (const db of dbs) {
      if (this.followed && !this.followed(db)) continue;
      const before = prev.keys.get(db) ?? 0;
      const now = keys.get(db) ?? 0;
      const notified = (removed.get(db) ?? 0) - (prev.removed.get(db) ?? 0);
      const drop = before - now;
      const slack = Math.max(16, Math.ceil(before * 0.001));
      if (drop > notified + slack || (now === 0 && before > 0 && notified < before)) {
        const silent = drop - notified;
        return { db, before, drop, notified, flushed: collapsed(before, before - silent) };
      }
    }
    return null;
  }
}

/** What a flushed db says in the failure (an identity change of kind 'dataset'). */
export function flushedDetail(d: SilentDrop): string {
  return `lost ${d.drop - d.notified} of the ${d.before} keys of db ${d.db} without delete notifications (FLUSHDB or FLUSHALL?)`;
}

/** Why a reconcile pass is asked for after a silent drop. */
export function silentDropReason(d: SilentDrop): string {
  return (
    `db ${d.db} lost ${d.drop} keys with only ${d.notified} delete notifications ` +
    `(FLUSHDB, FLUSHALL and SWAPDB publish none)`
  );
}
