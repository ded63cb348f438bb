// The probe's key samples (big keys, module types): SCAN each database for its share of the
// budget and hand each page to the caller, leaving the connection on the database it found.
import type { Redis } from 'ioredis';
import type { DatabaseStats } from './types.js';

/**
 * Splits the sample budget over the databases in proportion to their key counts (at least one
 * key each), so the sample looks like the keyspace. With fewer keys than the budget, every key.
 */
export function allocateSamples(databases: DatabaseStats[], budget: number): Map<number, number> {
  const total = databases.reduce((sum, d) => sum + d.keys, 0);
  const out = new Map<number, number>();
  for (const d of databases) {
    if (d.keys === 0) continue;
    out.set(d.db, total <= budget ? d.keys : Math.max(1, Math.floor((budget * d.keys) / total)));
  }
  return out;
}

/** Where a walk is: kept by the caller, so an error part way still says how far it got. */
export interface SampleWalk {
  /** The database the connection has selected now. */
  selected: number;
  /** Keys handed out so far. */
  sampled: number;
}

export async function walkSample(
  client: Redis,
  databases: DatabaseStats[],
  budget: number,
  batch: number,
  walk: SampleWalk,
  onPage: (db: number, keys: Buffer[]) => Promise<void>,
): Promise<void> {
  for (const [db, quota] of allocateSamples(databases, budget)) {
    if (db !== walk.selected) {
      await client.select(db);
      walk.selected = db;
    }
    let cursor = '0';
    let taken = 0;
    do {
      const [next, found] = await client.scanBuffer(cursor, 'COUNT', batch);
      cursor = next.toString();
      const keys = found.slice(0, quota - taken);
      if (keys.length === 0) continue;
      await onPage(db, keys);
      taken += keys.length;
      walk.sampled += keys.length;
    } while (cursor !== '0' && taken < quota);
  }
}
