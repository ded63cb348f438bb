// Per-field TTLs of hashes on one server: whether it can hold them (HPEXPIREAT, HPEXPIRETIME),
// and how many hashes use them: INFO keyspace's own count where the server reports it (Redis
// >= 7.4 `subexpiry`, Valkey >= 9 `keys_with_volatile_items`), else a bounded sample of hashes.
import type { Redis } from 'ioredis';
import { scrub } from '../util/secrets.js';
import type { DatabaseStats, FieldTtlFacts } from './types.js';

/** Hashes looked at when sampling (all databases together), and fields per hash. */
export const FIELD_TTL_SAMPLE_HASHES = 1000;
const FIELDS_PER_HASH = 100;
/** SCAN steps at most while sampling, so a keyspace with few hashes is not walked whole. */
const MAX_SCAN_STEPS = 200;

export async function probeFieldTtls(
  client: Redis,
  databases: DatabaseStats[],
  currentDb: number,
  notes: string[],
): Promise<FieldTtlFacts> {
  const supported = await hasFieldTtlCommands(client);
  if (!supported) return { supported, hashes: 0, counted: 'unsupported', perDb: [] };
  const withKeys = databases.filter((d) => d.keys > 0);
  if (withKeys.every((d) => d.hashesWithFieldTtls !== undefined)) {
    const perDb = withKeys
      .filter((d) => (d.hashesWithFieldTtls ?? 0) > 0)
      .map((d) => ({ db: d.db, hashes: d.hashesWithFieldTtls! }));
    return { supported, hashes: sum(perDb), counted: 'info-keyspace', perDb };
  }
  try {
    const sample = await sampleFieldTtls(client, withKeys, currentDb);
    notes.push(
      `Hash field TTLs: INFO keyspace does not count them here; ${sample.sampledHashes} hashes were sampled ` +
        `(up to ${FIELDS_PER_HASH} fields each), ${sample.hashes} with field TTLs${sample.sampledAll ? '' : ' (at least)'}.`,
    );
    return { supported, counted: 'sampled', ...sample };
  } catch (err) {
    notes.push(`Hash field TTLs could not be sampled (${scrub((err as Error).message)}).`);
    return { supported, hashes: 0, counted: 'sampled', sampledHashes: 0, sampledAll: false, perDb: [] };
  }
}

/** A key nobody has: HPEXPIRETIME of one of its fields reads nothing. */
export const FIELD_TTL_PROBE_KEY = 'migration-buddy:field-ttl-probe';

/**
 * Whether a server has field TTLs, from its answer to `HPEXPIRETIME FIELD_TTL_PROBE_KEY FIELDS 1 f`
 * (null: no error). Only "unknown command" says no: any other refusal (an ACL, a proxy) means the
 * server has them and the copy must fail visibly on them, never lose them silently.
 */
export function fieldTtlsFromProbeError(error: string | null): boolean {
  return error === null || !/unknown command/i.test(error);
}

async function hasFieldTtlCommands(client: Redis): Promise<boolean> {
  try {
    await client.call('HPEXPIRETIME', FIELD_TTL_PROBE_KEY, 'FIELDS', '1', 'f');
    return true;
  } catch (err) {
    return fieldTtlsFromProbeError((err as Error).message);
  }
}

async function sampleFieldTtls(
  client: Redis,
  databases: DatabaseStats[],
  currentDb: number,
): Promise<Omit<FieldTtlFacts, 'supported' | 'counted'>> {
  const perDb: { db: number; hashes: number }[] = [];
  let looked = 0;
  let all = true;
  try {
    for (const { db } of databases) {
      if (looked >= FIELD_TTL_SAMPLE_HASHES) {
        all = false;
        break;
      }
      await client.select(db);
      let cursor = '0';
      let found = 0;
      let steps = 0;
      do {
        const [next, keys] = await client.scanBuffer(cursor, 'COUNT', 100, 'TYPE', 'hash');
        cursor = next.toString();
        const batch = keys.slice(0, FIELD_TTL_SAMPLE_HASHES - looked);
        looked += batch.length;
        found += await countWithFieldTtls(client, batch);
        if (++steps >= MAX_SCAN_STEPS || looked >= FIELD_TTL_SAMPLE_HASHES) {
          if (cursor !== '0') all = false;
          break;
        }
      } while (cursor !== '0');
      if (found > 0) perDb.push({ db, hashes: found });
    }
  } finally {
    await client.select(currentDb).catch(() => undefined);
  }
  return { hashes: sum(perDb), sampledHashes: looked, sampledAll: all, perDb };
}

/** Hashes among `keys` with at least one field TTL among up to FIELDS_PER_HASH random fields. */
async function countWithFieldTtls(client: Redis, keys: Buffer[]): Promise<number> {
  if (keys.length === 0) return 0;
  const fields = client.pipeline();
  for (const key of keys) fields.callBuffer('HRANDFIELD', key, String(FIELDS_PER_HASH));
  const picked = ((await fields.exec()) ?? []).map(([err, r]) => (err ? [] : (r as Buffer[])));
  const expiries = client.pipeline();
  const asked: number[] = [];
  keys.forEach((key, i) => {
    const f = picked[i] ?? [];
    if (f.length === 0) return;
    asked.push(i);
    expiries.call('HPEXPIRETIME', key, 'FIELDS', String(f.length), ...f);
  });
  if (asked.length === 0) return 0;
  const replies = (await expiries.exec()) ?? [];
  return replies.filter(([err, r]) => !err && Array.isArray(r) && r.some((e) => Number(e) >= 0)).length;
}

function sum(perDb: { hashes: number }[]): number {
  return perDb.reduce((n, d) => n + d.hashes, 0);
}

/** "3 hashes with field TTLs (INFO keyspace)", "at least 2 ... (sampled 1000 hashes)", for people. */
export function describeFieldTtls(facts: FieldTtlFacts): string {
  if (!facts.supported) return 'not supported (no HPEXPIREAT)';
  const n = `${facts.hashes} hash${facts.hashes === 1 ? '' : 'es'} with field TTLs`;
  if (facts.counted === 'info-keyspace') return `supported; ${n} (counted by INFO keyspace)`;
  const exact = facts.sampledAll ? '' : 'at least ';
  return `supported; ${exact}${n} (sampled: ${facts.sampledHashes ?? 0} hashes looked at${
    facts.sampledAll ? ', all of them' : ''
  }; INFO keyspace does not count them)`;
}
