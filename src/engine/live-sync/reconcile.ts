// The reconcile pass run after any gap in the notification stream (reconnect, dirty-set overflow,
// keys vanishing without events, a follower taken over after its worker died): make every selected
// key on the target equal to the source, then delete target keys that the source no longer has.
//
// It compares before it copies: each SCAN page is read with DUMP and PTTL on both servers, and only
// keys whose payload or TTL differ are copied. After a short gap almost every key is already equal,
// so a takeover costs reads, not a second bulk copy (rewriting every key also churns the target's
// memory and replication). A payload can differ for equal values (another internal encoding):
// such a key is copied again, which is merely redundant. A key that may be big (MEMORY USAGE over
// COMPARE_MAX_BYTES on either server, or unknown) is copied without comparing: the copier moves big
// keys in chunks, while a DUMP of it here would be held whole, twice.
//
// Run it only while the flusher is held: a flush of key K interleaved with this pass could write
// a newer K before the pass writes an older one. Changes made during the pass land in the dirty
// set and are flushed after it, reading the source again, so the end state is the latest one; a key
// found equal and changed right after is in the dirty set too.

import type { Redis } from 'ioredis';
import { type DbRemap, targetDbOf } from '../db-mapping.js';
import type { Copier } from './copier.js';

export interface ReconcileOptions {
  dbs: 'all' | number[];
  /** Source db -> another target db (engine/db-mapping.ts). */
  remap?: DbRemap;
  match?: string;
  /** Keys per SCAN round and per EXISTS pipeline on the source. */
  batchSize: number;
  signal: AbortSignal;
  /** Called before each page of deletions; throws to stop the pass (the source changed). */
  beforeDeletes?: () => Promise<void>;
}

export interface ReconcileResult {
  /** Keys compared on both servers. */
  keysCompared: number;
  /** Keys that differed and were copied (or deleted on the target, gone from the source). */
  keysCopied: number;
  extrasDeleted: number;
  dbs: number[];
}

/** TTLs further apart than this differ (the two PTTL reads are not at the same instant). */
const TTL_TOLERANCE_MS = 1000;
/** Keys estimated above this on either server are copied, not compared (bounded memory). */
const COMPARE_MAX_BYTES = 1024 * 1024;

export async function reconcile(
  copier: Copier,
  source: Redis,
  target: Redis,
  options: ReconcileOptions,
): Promise<ReconcileResult> {
  const dbs =
    options.dbs === 'all'
      ? [...new Set([...(await keysPerDb(source)).keys(), ...(await keysPerDb(target)).keys()])].sort(
          (a, b) => a - b,
        )
      : options.dbs;
  let keysCompared = 0;
  let keysCopied = 0;
  let extrasDeleted = 0;
  for (const db of dbs) {
    const copied = await copyDiffering(copier, source, target, db, options);
    keysCompared += copied.compared;
    keysCopied += copied.copied;
    extrasDeleted += await deleteExtraKeys(source, target, db, options);
  }
  return { keysCompared, keysCopied, extrasDeleted, dbs };
}

/** SCANs one source db and copies the keys whose DUMP payload or TTL differ on the target. */
export async function copyDiffering(
  copier: Copier,
  source: Redis,
  target: Redis,
  db: number,
  options: Pick<ReconcileOptions, 'match' | 'batchSize' | 'signal' | 'remap'>,
): Promise<{ compared: number; copied: number }> {
  await source.select(db);
  await target.select(targetDbOf(options, db));
  let compared = 0;
  let copied = 0;
  let cursor = '0';
  do {
    options.signal.throwIfAborted();
    const args: (string | number)[] = [cursor, 'COUNT', options.batchSize];
    if (options.match && options.match !== '*') args.push('MATCH', options.match);
    const [next, keys] = (await source.callBuffer('SCAN', ...args)) as [Buffer, Buffer[]];
    cursor = next.toString();
    if (keys.length === 0) continue;
    const [sizeA, sizeB] = await Promise.all([memoryUsage(source, keys), memoryUsage(target, keys)]);
    const fits = keys.map((_, i) => sizeA[i]! <= COMPARE_MAX_BYTES && sizeB[i]! <= COMPARE_MAX_BYTES);
    const small = keys.filter((_, i) => fits[i]);
    const differing = keys.filter((_, i) => !fits[i]);
    const [a, b] = await Promise.all([dumpAll(source, small), dumpAll(target, small)]);
    small.forEach((key, i) => {
      if (!same(a[i]!, b[i]!)) differing.push(key);
    });
    compared += small.length;
    if (differing.length > 0) {
      options.signal.throwIfAborted();
      const res = await copier.copyKeySet(db, differing);
      copied += differing.length - res.keysFailed;
    }
  } while (cursor !== '0');
  return { compared, copied };
}

/** MEMORY USAGE per key: 0 for a missing key, Infinity when the server will not say (ACL, error). */
async function memoryUsage(client: Redis, keys: Buffer[]): Promise<number[]> {
  const pipeline = client.pipeline();
  for (const key of keys) pipeline.call('MEMORY', 'USAGE', key);
  const replies = (await pipeline.exec()) ?? [];
  return keys.map((_, i) => {
    const [err, bytes] = replies[i] ?? [new Error('no reply'), null];
    if (err) return Number.POSITIVE_INFINITY;
    return bytes === null ? 0 : Number(bytes);
  });
}

interface Dumped {
  payload: Buffer | null;
  pttl: number;
}

async function dumpAll(client: Redis, keys: Buffer[]): Promise<Dumped[]> {
  const pipeline = client.pipeline();
  for (const key of keys) {
    pipeline.dumpBuffer(key);
    pipeline.pttl(key);
  }
  const replies = (await pipeline.exec()) ?? [];
  const out: Dumped[] = [];
  for (let i = 0; i < keys.length; i++) {
    const [e1, payload] = replies[2 * i]!;
    const [e2, pttl] = replies[2 * i + 1]!;
    if (e1 || e2) throw e1 ?? e2;
    out.push({ payload: (payload as Buffer | null) ?? null, pttl: Number(pttl) });
  }
  return out;
}

/** Same value and, within the tolerance, the same expiry (a key gone from both is the same too). */
function same(a: Dumped, b: Dumped): boolean {
  if (a.payload === null || b.payload === null) return a.payload === b.payload;
  if (!a.payload.equals(b.payload)) return false;
  if (a.pttl < 0 || b.pttl < 0) return a.pttl === b.pttl;
  return Math.abs(a.pttl - b.pttl) <= TTL_TOLERANCE_MS;
}

/** Deletes the keys of one target db (matching the filter) that do not exist on the source. */
export async function deleteExtraKeys(
  source: Redis,
  target: Redis,
  db: number,
  options: Pick<ReconcileOptions, 'match' | 'batchSize' | 'signal' | 'beforeDeletes' | 'remap'>,
): Promise<number> {
  await source.select(db);
  await target.select(targetDbOf(options, db));
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
