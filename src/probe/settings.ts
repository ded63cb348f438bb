// Server settings that only CONFIG GET reveals, and the database count when CONFIG is blocked.
import type { Redis } from 'ioredis';
import { scrub } from '../util/secrets.js';

export const CONFIG_PARAMS = [
  'databases',
  'notify-keyspace-events',
  'proto-max-bulk-len',
  'maxmemory',
  'maxmemory-policy',
] as const;
export type ConfigParam = (typeof CONFIG_PARAMS)[number];

/**
 * CONFIG GET per parameter (several names in one call need Redis 7), pipelined. Returns the values
 * that came back; a parameter the server does not know is simply absent.
 */
export async function readConfig(client: Redis): Promise<Partial<Record<ConfigParam, string>>> {
  const pipeline = client.pipeline();
  for (const param of CONFIG_PARAMS) pipeline.call('CONFIG', 'GET', param);
  const results = (await pipeline.exec()) ?? [];
  const out: Partial<Record<ConfigParam, string>> = {};
  for (const [err, reply] of results) {
    if (err) throw err;
    const flat = reply as string[];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const name = flat[i] as ConfigParam;
      if ((CONFIG_PARAMS as readonly string[]).includes(name)) out[name] = String(flat[i + 1]);
    }
  }
  return out;
}

/** Highest db index we try; `databases` may be set up to INT_MAX but nobody does that. */
const MAX_DB_TRIED = 1 << 24;

export type DatabaseCount = { count: number; exact: boolean } | { count: null; why: string };

/**
 * Finds how many databases the server has by SELECTing on our own connection: "DB index is out
 * of range" marks the end. Doubling then bisecting keeps it to a few dozen round trips. Only
 * this connection's selected db changes, and it is put back.
 * `knownUsed` is an index known to exist (the highest db holding keys, or the connection's db).
 */
export async function findDatabaseCount(
  client: Redis,
  currentDb: number,
  knownUsed: number,
): Promise<DatabaseCount> {
  const exists = async (db: number): Promise<boolean> => {
    try {
      await client.select(db);
      return true;
    } catch (err) {
      if (/out of range|invalid db/i.test((err as Error).message)) return false;
      throw err;
    }
  };
  try {
    let lo = Math.max(knownUsed, currentDb, 0); // known to exist
    let missing = Math.max(16, lo + 1); // first guess: the default of 16 databases
    while (await exists(missing)) {
      lo = missing;
      if (missing >= MAX_DB_TRIED) return { count: missing + 1, exact: false };
      missing = Math.min(missing * 2, MAX_DB_TRIED);
    }
    // db `lo` exists, db `missing` does not: bisect between them.
    while (missing - lo > 1) {
      const mid = Math.floor((lo + missing) / 2);
      if (await exists(mid)) lo = mid;
      else missing = mid;
    }
    return { count: lo + 1, exact: true };
  } catch (err) {
    const message = (err as Error).message;
    if (/not allowed in cluster mode/i.test(message)) return { count: 1, exact: true };
    return { count: null, why: scrub(message.replace(/^ERR /, '')) };
  } finally {
    await client.select(currentDb).catch(() => undefined);
  }
}
