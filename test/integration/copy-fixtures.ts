// Datasets for the copy tests: every type and encoding, binary keys and values, TTLs, streams
// with groups, consumers and pending entries.
import type { Redis } from 'ioredis';
import type { RedisServer } from '../harness/redis-server.js';

export const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
export const INVALID_UTF8 = Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1]);

/** Fills the selected db of `c` with one key of every type/encoding (names prefixed). */
export async function fillEveryType(c: Redis, prefix = ''): Promise<void> {
  const k = (name: string) => `${prefix}${name}`;
  await c.set(k('str:plain'), 'hello');
  await c.set(k('str:int'), '12345');
  await c.set(k('str:empty'), '');
  await c.set(k('str:ttl'), 'expiring', 'PX', 120_000);
  await c.set(Buffer.concat([Buffer.from(prefix), ALL_BYTES]), Buffer.from(ALL_BYTES).reverse());
  await c.set(Buffer.concat([Buffer.from(prefix), INVALID_UTF8]), INVALID_UTF8);
  await c.set(k('str:big'), Buffer.alloc(100_000, 0xab));

  await c.hset(k('hash:small'), 'a', '1', 'b', '2');
  await c.hset(k('hash:binary'), ALL_BYTES, INVALID_UTF8, INVALID_UTF8, ALL_BYTES);
  const bigHash: (string | Buffer)[] = [];
  for (let i = 0; i < 600; i++) bigHash.push(`field-${i}`, `value-${i}-${'x'.repeat(i % 50)}`);
  await c.hset(k('hash:big'), ...bigHash);
  await c.pexpire(k('hash:big'), 300_000);

  await c.rpush(k('list:small'), 'a', 'b', 'a');
  await c.rpush(k('list:big'), ...Array.from({ length: 1000 }, (_, i) => `item-${i}`));
  await c.rpush(k('list:binary'), ALL_BYTES, INVALID_UTF8, '');

  await c.sadd(k('set:ints'), 1, 2, 3, 1000000);
  await c.sadd(k('set:small'), 'x', 'y');
  await c.sadd(k('set:big'), ...Array.from({ length: 600 }, (_, i) => `member-${i}`));
  await c.sadd(k('set:binary'), ALL_BYTES, INVALID_UTF8);

  await c.zadd(k('zset:small'), 1, 'one', 2.5, 'two-and-a-half', -3, 'minus-three');
  await c.zadd(k('zset:special'), 'inf', 'top', '-inf', 'bottom', 0.1, 'tenth', 1e-300, 'tiny', 0, 'zero');
  const bigZ: (string | number)[] = [];
  for (let i = 0; i < 300; i++) bigZ.push(i / 7, `m-${i}`);
  await c.zadd(k('zset:big'), ...bigZ);
  await c.zadd(k('zset:binary'), 1, ALL_BYTES, 2, INVALID_UTF8);

  await fillStream(c, k('stream:groups'));
  // A stream whose entries were all deleted still exists, with its counters and a group.
  await c.xadd(k('stream:empty'), '5-1', 'f', 'v');
  await c.xdel(k('stream:empty'), '5-1');
  await c.xgroup('CREATE', k('stream:empty'), 'g', '0');
  await c.xadd(k('stream:plain'), '*', 'a', '1');
  await c.pexpire(k('stream:plain'), 200_000);
}

/** A stream with deleted entries, two groups, consumers with and without pending entries. */
export async function fillStream(c: Redis, key: string, entries = 20): Promise<void> {
  for (let i = 1; i <= entries; i++) {
    await c.xadd(key, `${1000 + i}-${i % 3}`, 'n', String(i), 'payload', Buffer.from([i, 0, 255]));
  }
  await c.xdel(key, `${1000 + 2}-2`, `${1000 + 5}-2`);
  await c.xgroup('CREATE', key, 'workers', '0');
  await c.xgroup('CREATE', key, 'late', `${1000 + entries - 2}-0`);
  // alice reads 4 (2 acked), bob reads 3; carol exists without pending entries.
  await c.xreadgroup('GROUP', 'workers', 'alice', 'COUNT', 4, 'STREAMS', key, '>');
  await c.xreadgroup('GROUP', 'workers', 'bob', 'COUNT', 3, 'STREAMS', key, '>');
  await c.call('XGROUP', 'CREATECONSUMER', key, 'workers', 'carol');
  const pending = (await c.xpending(key, 'workers', '-', '+', 10)) as [string, string, number, number][];
  await c.xack(key, 'workers', pending[0]![0], pending[1]![0]);
  // Deliver one entry again so its delivery count is 2.
  await c.xclaim(key, 'workers', 'bob', 0, pending[2]![0]);
  await c.xreadgroup('GROUP', 'late', 'dave', 'COUNT', 1, 'STREAMS', key, '>');
}

/** Kills our copier's connection(s) with the given role on a server. */
export async function killCopierConnections(server: RedisServer, role: string): Promise<number> {
  const c = await server.client();
  const list = String(await c.call('CLIENT', 'LIST'));
  let killed = 0;
  for (const line of list.split('\n')) {
    if (!line.includes(`name=migration-buddy:${role}`)) continue;
    const id = /(?:^|\s)id=(\d+)/.exec(line)?.[1];
    if (id) killed += Number(await c.call('CLIENT', 'KILL', 'ID', id));
  }
  return killed;
}
