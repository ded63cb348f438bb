// The changes not applied yet: the dirty keys (dirty-set.ts) and the batches being copied.
//
// A batch is taken out of the dirty set *before* it is read, so a change during its copy dirties the
// key again; its keys stay busy until the batch settles, so that key is not put in another batch
// meanwhile and two copies of one key never race. The drain barrier (minSeq) and the lag estimate
// (oldestSince, count) look at both.

import { type AddResult, type DirtyBatch, DirtySet } from './dirty-set.js';

export class PendingChanges {
  private readonly dirty: DirtySet;
  private readonly inflight = new Set<DirtyBatch>();
  /** Keys (latin1) of the batches in flight, per db. */
  private readonly busyKeys = new Map<number, Set<string>>();

  constructor(maxDirtyKeys: number) {
    this.dirty = new DirtySet(maxDirtyKeys);
  }

  /** Marks a key dirty (see DirtySet.add: 'overflow' means it was not recorded). */
  add(db: number, key: Buffer, seq: number, now: number): AddResult {
    return this.dirty.add(db, key, seq, now);
  }

  /** Drops every dirty key (batches in flight go on): only safe when a reconcile pass follows. */
  dropDirty(): void {
    this.dirty.clear();
  }

  /** Dirty keys waiting for a batch. */
  get waiting(): number {
    return this.dirty.size;
  }

  /** Batches being copied. */
  get batchesInFlight(): number {
    return this.inflight.size;
  }

  /** The next batch of up to `max` keys, none of them busy; its keys are busy until settle(). */
  take(max: number): DirtyBatch | null {
    const batch = this.dirty.take(max, this.isBusy);
    if (!batch) return null;
    this.inflight.add(batch);
    let busy = this.busyKeys.get(batch.db);
    if (!busy) {
      busy = new Set();
      this.busyKeys.set(batch.db, busy);
    }
    for (const [k] of batch.entries) busy.add(k);
    return batch;
  }

  /** A batch that failed goes back to the dirty set; its keys stay busy until settle(). */
  putBack(batch: DirtyBatch): void {
    this.dirty.putBack(batch);
  }

  /** The batch is done (applied, or put back and waited out): its keys may be taken again. */
  settle(batch: DirtyBatch): void {
    const busy = this.busyKeys.get(batch.db);
    if (busy) {
      for (const [k] of batch.entries) busy.delete(k);
      if (busy.size === 0) this.busyKeys.delete(batch.db);
    }
    this.inflight.delete(batch);
  }

  /** Lowest sequence number not applied yet, dirty or in flight (Infinity when none). */
  minSeq(): number {
    let min = this.dirty.minSeq();
    for (const b of this.inflight) if (b.minSeq < min) min = b.minSeq;
    return min;
  }

  /** Keys not applied yet, including those in flight. */
  count(): number {
    let n = this.dirty.size;
    for (const b of this.inflight) n += b.keys.length;
    return n;
  }

  /** When the oldest change not applied yet was first seen (null when none). */
  oldestSince(): number | null {
    let since = this.dirty.oldestSince();
    for (const b of this.inflight) since = since === null ? b.oldestSince : Math.min(since, b.oldestSince);
    return since;
  }

  private readonly isBusy = (db: number, key: string): boolean => this.busyKeys.get(db)?.has(key) ?? false;
}
