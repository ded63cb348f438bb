// The keys changed on the source and not yet applied to the target, per db, deduplicated and bounded.
//
// Every entry carries the sequence number of the first notification that dirtied it (a key
// dirtied again while pending keeps its older number, so it is not starved) and the time it was
// first seen. Entries keep insertion order, so the first entry of each db is its oldest: the drain
// barrier and the lag estimate read it in O(number of dbs).

export interface DirtyEntry {
  seq: number;
  since: number;
}

/** A batch taken out for copying; put back on failure. */
export interface DirtyBatch {
  db: number;
  keys: Buffer[];
  entries: [string, DirtyEntry][];
  minSeq: number;
  oldestSince: number;
}

export type AddResult = 'added' | 'pending' | 'overflow';

export class DirtySet {
  // Key bytes as latin1 strings: one char per byte, so the mapping is exact and cheap.
  private readonly byDb = new Map<number, Map<string, DirtyEntry>>();
  private count = 0;

  constructor(readonly maxKeys: number) {
    if (!(maxKeys > 0)) throw new RangeError('maxKeys must be positive');
  }

  get size(): number {
    return this.count;
  }

  /** Marks a key dirty. 'overflow' means the bound was reached: the key was not recorded. */
  add(db: number, key: Buffer, seq: number, now: number): AddResult {
    let keys = this.byDb.get(db);
    const k = key.toString('latin1');
    if (keys?.has(k)) return 'pending';
    if (this.count >= this.maxKeys) return 'overflow';
    if (!keys) {
      keys = new Map();
      this.byDb.set(db, keys);
    }
    keys.set(k, { seq, since: now });
    this.count++;
    return 'added';
  }

  /**
   * Takes up to `max` of the oldest keys of one db, preferring the db holding the oldest entry.
   * Keys for which `busy` says true (a copy of them is in flight) stay in the set for a later batch,
   * so that two copies of one key never run at once.
   */
  take(max: number, busy?: (db: number, key: string) => boolean): DirtyBatch | null {
    for (const db of this.dbsByAge()) {
      const keys = this.byDb.get(db)!;
      const batch: DirtyBatch = { db, keys: [], entries: [], minSeq: Infinity, oldestSince: Infinity };
      for (const [k, entry] of keys) {
        if (batch.keys.length >= max) break;
        if (busy?.(db, k)) continue;
        batch.keys.push(Buffer.from(k, 'latin1'));
        batch.entries.push([k, entry]);
        if (entry.seq < batch.minSeq) batch.minSeq = entry.seq;
        if (entry.since < batch.oldestSince) batch.oldestSince = entry.since;
      }
      if (batch.entries.length === 0) continue;
      for (const [k] of batch.entries) keys.delete(k);
      this.count -= batch.entries.length;
      if (keys.size === 0) this.byDb.delete(db);
      return batch;
    }
    return null;
  }

  /**
   * Returns a batch that could not be applied. Its keys go back in front (they are older than
   * anything added since), merged with any that were dirtied again meanwhile. May exceed the bound
   * by at most one batch, which is fine: the bound is about memory, not exactness.
   */
  putBack(batch: DirtyBatch): void {
    const current = this.byDb.get(batch.db) ?? new Map<string, DirtyEntry>();
    const merged = new Map<string, DirtyEntry>(batch.entries);
    for (const [k, entry] of current) {
      const back = merged.get(k);
      if (back)
        merged.set(k, { seq: Math.min(back.seq, entry.seq), since: Math.min(back.since, entry.since) });
      else merged.set(k, entry);
    }
    this.count += merged.size - current.size;
    this.byDb.set(batch.db, merged);
  }

  /** Lowest pending sequence number (Infinity when empty). */
  minSeq(): number {
    let min = Infinity;
    for (const keys of this.byDb.values()) {
      const first = keys.values().next();
      if (!first.done && first.value.seq < min) min = first.value.seq;
    }
    return min;
  }

  /** When the oldest pending change was first seen (null when empty). */
  oldestSince(): number | null {
    let min = Infinity;
    for (const keys of this.byDb.values()) {
      const first = keys.values().next();
      if (!first.done && first.value.since < min) min = first.value.since;
    }
    return min === Infinity ? null : min;
  }

  clear(): void {
    this.byDb.clear();
    this.count = 0;
  }

  private dbsByAge(): number[] {
    const firsts: [number, number][] = [];
    for (const [db, keys] of this.byDb) {
      const first = keys.values().next();
      if (!first.done) firsts.push([db, first.value.seq]);
    }
    return firsts.sort((a, b) => a[1] - b[1]).map(([db]) => db);
  }
}
