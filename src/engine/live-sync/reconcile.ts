// The reconcile pass run after any gap in the notification stream (reconnect, dirty-set overflow,
// keys vanishing without events): re-copy every selected key, then delete target keys that the
// source no longer has. The second half is what re-copying cannot do: a key deleted during the gap
// is simply not found by the source SCAN.
//
// Run it only while the flusher is held: a flush of key K interleaved with this pass could write
// a newer K before the pass writes an older one. Changes made during the pass land in the dirty
// set and are flushed after it, reading the source again, so the end state is the latest one.

import type { Redis } from 'ioredis';
import type { Copier } from './copier.js';

export interface ReconcileOptions {
  dbs: 'all' | number[];
  match?: string;
  /** Keys per SCAN round and per EXISTS pipeline on the source. */
  batchSize: number;
  signal: AbortSignal;
  /** Called before each page of deletions; throws to stop the pass (the source changed). */
  beforeDeletes?: () => Promise<void>;
}

export interface ReconcileResult {
  keysCopied: number;
  extrasDeleted: number;
  dbs: number[];
}

export async function reconcile(
  copier: Copier,
  source: Redis,
  target: Redis,
  options: ReconcileOptions,
): Promise<ReconcileResult> {
  const { keysCopied } = await copier.copyAll(options.dbs, options.match, options.signal);
  const dbs =
    options.dbs === 'all'
      ? [...new Set([...(await keysPerDb(source)).keys(), ...(await keysPerDb(target)).keys()])].sort(
          (a, b) => a - b,
        )
      : options.dbs;
  let extrasDeleted = 0;
  for (const db of dbs) {
    extrasDeleted += await deleteExtraKeys(source, target, db, options);
  }
  return { keysCopied, extrasDeleted, dbs };
}

/** Deletes the keys of one target db (matching the filter) that do not exist on the source. */
export async function deleteExtraKeys(
  source: Redis,
  target: Redis,
  db: number,
  options: Pick<ReconcileOptions, 'match' | 'batchSize' | 'signal' | 'beforeDeletes'>,
): Promise<number> {
  await source.select(db);
  await target.select(db);
  let deleted = 0;
  let cursor = '0';
  do {
    options.signal.throwIfAborted();
    const args: (string | number)[] = [cursor, 'COUNT', options.batchSize];
    if (options.match && options.match !== '*') args.push('MATCH', options.match);
    const [next, keys] = (await target.callBuffer('SCAN', ...args)) as [Buffer, Buffer[]];
    cursor = next.toString();
    if (keys.length === 0) continue;
    const pipeline = source.pipeline();
    for (const key of keys) pipeline.exists(key);
    const replies = (await pipeline.exec()) ?? [];
    const extras: Buffer[] = [];
    replies.forEach(([err, n], i) => {
      if (err) throw err;
      if (n === 0) extras.push(keys[i]!);
    });
    if (extras.length === 0) continue;
    await options.beforeDeletes?.();
    // UNLINK frees big values off the main thread of the target.
    deleted += await target.unlink(...extras);
  } while (cursor !== '0');
  return deleted;
}

/** Keys per db from INFO keyspace (`db3:keys=10,expires=0,avg_ttl=0`). */
export async function keysPerDb(client: Redis): Promise<Map<number, number>> {
  return parseInfoKeyspace(await client.info('keyspace'));
}

export function parseInfoKeyspace(info: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of info.matchAll(/^db(\d+):keys=(\d+)/gm)) out.set(Number(m[1]), Number(m[2]));
  return out;
}
