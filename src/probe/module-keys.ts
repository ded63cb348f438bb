// Whether the keyspace holds keys of module types (Redis 8's built-in vector sets are one: TYPE
// says `vectorset`, DUMP writes a module value). They travel only as DUMP payloads, so a plan
// must know before it picks a by-type copy. Sampled only on servers that load modules: SCAN in
// small batches and one pipeline of TYPE per batch, up to a fixed number of keys in total.
import type { Redis } from 'ioredis';
import { scrub } from '../util/secrets.js';
import { DEFAULT_BIG_KEY_SAMPLES } from './big-keys.js';
import { type SampleWalk, walkSample } from './sample-walk.js';
import type { DatabaseStats } from './types.js';

/** Types a server knows without modules; anything else TYPE reports is a module type. */
export const CORE_TYPES: ReadonlySet<string> = new Set([
  'string',
  'list',
  'set',
  'zset',
  'hash',
  'stream',
  'none',
]);

export interface ModuleKeyType {
  db: number;
  type: string;
  keys: number;
}

export interface ModuleKeySample {
  /** Keys whose type was read. */
  sampled: number;
  /** Keys in the databases looked at: the sample is complete when it equals sampled. */
  keys: number;
  /** Module types found: db, type name and how many sampled keys had it. */
  types: ModuleKeyType[];
  notes: string[];
}

const BATCH = 200;

/** TYPE of up to `budget` keys spread over the databases (the selected db is put back to `currentDb`). */
export async function sampleModuleKeys(
  client: Redis,
  databases: DatabaseStats[],
  currentDb: number,
  budget = DEFAULT_BIG_KEY_SAMPLES,
): Promise<ModuleKeySample> {
  const found = new Map<string, ModuleKeyType>();
  const notes: string[] = [];
  const keys = databases.reduce((n, d) => n + d.keys, 0);
  const walk: SampleWalk = { selected: currentDb, sampled: 0 };
  try {
    await walkSample(client, databases, budget, BATCH, walk, async (db, batch) => {
      const pipeline = client.pipeline();
      for (const key of batch) pipeline.type(key);
      for (const [err, type] of (await pipeline.exec()) ?? []) {
        if (err) throw new Error(`TYPE failed: ${err.message}`);
        if (typeof type !== 'string' || CORE_TYPES.has(type)) continue;
        const entry = found.get(`${db} ${type}`) ?? { db, type, keys: 0 };
        entry.keys++;
        found.set(`${db} ${type}`, entry);
      }
    });
  } catch (err) {
    notes.push(`module key sampling stopped after ${walk.sampled} keys: ${scrub((err as Error).message)}`);
  } finally {
    if (walk.selected !== currentDb) await client.select(currentDb).catch(() => undefined);
  }
  return { sampled: walk.sampled, keys, types: [...found.values()], notes };
}
