// Finds the biggest keys by sampling, without blocking the server: SCAN in small batches and one
// pipeline of `MEMORY USAGE key SAMPLES 5` per batch, up to a fixed number of keys in total.
import type { Redis } from 'ioredis';
import { scrub } from '../util/secrets.js';
import { printableKey } from './printable-key.js';
import { type SampleWalk, walkSample } from './sample-walk.js';
import type { BigKey, DatabaseStats } from './types.js';

export interface BigKeyOptions {
  /** Keys to look at across all databases (default 10,000). */
  samples?: number;
  /** How many of the biggest to keep (default 10). */
  top?: number;
  /** SCAN COUNT per batch (default 100). */
  batch?: number;
}

export const DEFAULT_BIG_KEY_SAMPLES = 10_000;
const DEFAULT_TOP = 10;
const DEFAULT_BATCH = 100;

/** How many elements a key of each type has, and the command that says so. */
const ELEMENT_COUNT: Record<string, string> = {
  hash: 'HLEN',
  list: 'LLEN',
  set: 'SCARD',
  zset: 'ZCARD',
  stream: 'XLEN',
};

export { allocateSamples } from './sample-walk.js';

interface Candidate {
  db: number;
  key: Buffer;
  bytes: number;
}

/** Keeps the `size` biggest candidates, biggest first. */
class TopList {
  readonly items: Candidate[] = [];
  constructor(private readonly size: number) {}
  offer(c: Candidate): void {
    if (this.items.length === this.size && c.bytes <= this.items[this.items.length - 1]!.bytes) return;
    const at = this.items.findIndex((x) => x.bytes < c.bytes);
    this.items.splice(at === -1 ? this.items.length : at, 0, c);
    if (this.items.length > this.size) this.items.pop();
  }
}

export interface BigKeySample {
  sampled: number;
  keys: BigKey[];
  notes: string[];
}

/**
 * Samples keys of the given databases on `client` (its selected db is changed and put back to
 * `currentDb`). MEMORY USAGE, TYPE and the length commands do not modify keys.
 */
export async function sampleBigKeys(
  client: Redis,
  databases: DatabaseStats[],
  currentDb: number,
  options: BigKeyOptions = {},
): Promise<BigKeySample> {
  const budget = Math.max(1, options.samples ?? DEFAULT_BIG_KEY_SAMPLES);
  const batch = Math.max(1, options.batch ?? DEFAULT_BATCH);
  const top = new TopList(Math.max(1, options.top ?? DEFAULT_TOP));
  const notes: string[] = [];
  const walk: SampleWalk = { selected: currentDb, sampled: 0 };
  try {
    await walkSample(client, databases, budget, batch, walk, async (db, keys) => {
      const pipeline = client.pipeline();
      for (const key of keys) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '5');
      const results = (await pipeline.exec()) ?? [];
      for (let i = 0; i < keys.length; i++) {
        const [err, bytes] = results[i] ?? [new Error('no reply'), null];
        if (err) throw new Error(`MEMORY USAGE failed: ${err.message}`);
        // null: the key expired or was deleted between SCAN and MEMORY USAGE.
        if (typeof bytes === 'number') top.offer({ db, key: keys[i]!, bytes });
      }
    });
    return {
      sampled: walk.sampled,
      keys: await describe(
        client,
        top.items,
        () => walk.selected,
        (db) => (walk.selected = db),
      ),
      notes,
    };
  } catch (err) {
    notes.push(`big-key sampling stopped after ${walk.sampled} keys: ${scrub((err as Error).message)}`);
    return { sampled: walk.sampled, keys: [], notes };
  } finally {
    if (walk.selected !== currentDb) await client.select(currentDb).catch(() => undefined);
  }
}

/** Type and element count of each winner; keys gone since sampling are dropped. */
async function describe(
  client: Redis,
  winners: Candidate[],
  selected: () => number,
  select: (db: number) => void,
): Promise<BigKey[]> {
  const out: BigKey[] = [];
  for (const c of winners) {
    if (c.db !== selected()) {
      await client.select(c.db);
      select(c.db);
    }
    const type = await client.type(c.key);
    if (type === 'none') continue;
    const big: BigKey = { db: c.db, key: printableKey(c.key), type, bytes: c.bytes };
    const lengthCommand = ELEMENT_COUNT[type];
    if (lengthCommand) {
      const n = await client.call(lengthCommand, c.key).catch(() => null);
      if (typeof n === 'number') big.elements = n;
    }
    out.push(big);
  }
  return out;
}
