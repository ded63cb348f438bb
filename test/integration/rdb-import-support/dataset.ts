// An RDB with every encoding a server of each version writes: small and large forms of each type
// (listpack/ziplist and hash table/skiplist/quicklist), intsets, quicklist plain nodes, LZF-compressed
// keys and values, streams with groups, PEL and consumers, functions, TTLs, several databases,
// binary keys, and (Redis 7.4+) hashes with field TTLs. Written with plain ioredis, then SAVEd.
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { RedisServer } from '../../harness/redis-server.js';
import { ALL_BYTES, fillEveryType } from '../copy-fixtures.js';

export const LIBRARY =
  "#!lua name=rdblib\nredis.register_function('rdbfn', function(keys, args) return 'rdb' end)";

/** Keys with hash field TTLs, when the server has HEXPIRE (Redis 7.4+). */
export const FIELD_TTL_KEYS = ['hfe:small', 'hfe:big'];

export interface Dataset {
  /** Path of the dump.rdb written by SAVE. */
  file: string;
  fieldTtls: boolean;
  /** Keys (db 0) due to expire before an import that waits EXPIRED_WAIT_MS. */
  expiring: string[];
}

export const EXPIRED_WAIT_MS = 1500;

export async function writeDataset(server: RedisServer): Promise<Dataset> {
  const c = await server.client();
  await fillEveryType(c);
  await c.set(`lzf-key:${'k'.repeat(300)}`, `lzf-value:${'v'.repeat(3000)}`);
  await c.rpush('list:plain-node', 'x'.repeat(20_000), 'small', 'y'.repeat(9000));
  await c.sadd('set:intset-big', ...Array.from({ length: 400 }, (_, i) => i * 7 - 1000));
  await c.sadd('set:ints-ht', ...Array.from({ length: 1000 }, (_, i) => i));
  await c.set('str:negint', '-123456789');
  await c.set('str:int8', '-7');
  await c.set('str:expires-soon', 'gone', 'PX', 700);
  const fieldTtls = await hasFieldTtls(c);
  if (fieldTtls) {
    await c.hset('hfe:small', 'a', '1', 'b', '2', 'c', '3');
    await c.call('HPEXPIRE', 'hfe:small', 600_000, 'FIELDS', 1, 'a');
    const big: string[] = [];
    for (let i = 0; i < 700; i++) big.push(`f${i}`, `v${i}`);
    await c.hset('hfe:big', ...big);
    await c.call('HPEXPIRE', 'hfe:big', 600_000, 'FIELDS', 2, 'f1', 'f500');
  }
  await c.call('FUNCTION', 'LOAD', LIBRARY);
  await c.select(3);
  await fillEveryType(c, 'db3:');
  await c.select(15);
  await c.set(ALL_BYTES, 'binary key in db 15', 'PX', 500_000);
  await c.hset(Buffer.from([0, 1, 2]), ALL_BYTES, ALL_BYTES);
  await c.select(0);
  await c.call('SAVE');
  const dir = ((await c.config('GET', 'dir')) as string[])[1]!;
  return { file: join(dir, 'dump.rdb'), fieldTtls, expiring: ['str:expires-soon'] };
}

async function hasFieldTtls(c: Redis): Promise<boolean> {
  try {
    await c.call('COMMAND', 'INFO', 'HPEXPIRE').then((r) => {
      if (!Array.isArray(r) || r[0] === null) throw new Error('no HPEXPIRE');
    });
    return true;
  } catch {
    return false;
  }
}
