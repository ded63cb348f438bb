// The compatibility matrix's servers and dataset: Redis 7.0 (the machine's), Redis 8.0 and
// Valkey 8.1 (Debian 13's, scripts/redis-bin/servers.ts), each ordered pair, and the adversarial
// dataset (every type and encoding, binary keys, stream groups, TTLs, three dbs, a function
// library). What each pair should do is written here from the servers' RDB formats (Redis 7.0
// writes 10, Valkey 8.1 11, Redis 8.0 12), not taken from the planner under test.
import type { Redis } from 'ioredis';
import { SERVER_NAMES, type ServerName } from '../../scripts/redis-bin/servers.js';
import { type RedisServer, serverUnavailable, startRedis } from '../harness/redis-server.js';
import { fillEveryType } from './copy-fixtures.js';

export const RDB_OF: Record<ServerName, number> = { 'redis-7.0': 10, 'valkey-8.1': 11, 'redis-8.0': 12 };

export interface Pair {
  from: ServerName;
  to: ServerName;
  /** The target cannot load the source's RDB format: no replication, DUMP payloads rejected. */
  downgrade: boolean;
  label: string;
}

export const PAIRS: Pair[] = SERVER_NAMES.flatMap((from) =>
  SERVER_NAMES.filter((to) => to !== from).map((to) => ({
    from,
    to,
    downgrade: RDB_OF[to] < RDB_OF[from],
    label: `${from} -> ${to}`,
  })),
);

/** Why the matrix cannot run here (a server missing), or undefined. */
export async function matrixUnavailable(): Promise<string | undefined> {
  for (const name of SERVER_NAMES) {
    const why = await serverUnavailable(name);
    if (why) return why;
  }
  return undefined;
}

const LIBRARY = [
  '#!lua name=compatlib',
  "redis.register_function('compat_get', function(keys, args) return redis.call('GET', keys[1]) end)",
  "redis.register_function{function_name='compat_ro', callback=function(keys, args) return 1 end, flags={'no-writes'}}",
].join('\n');

/** The adversarial dataset: every type in db 0 and db 3, a TTL'd key in db 15, one function library. */
export async function fillAdversarial(server: RedisServer): Promise<void> {
  const c = await server.client();
  await fillEveryType(c);
  await c.select(3);
  await fillEveryType(c, 'db3:');
  await c.select(15);
  await c.set('only-in-15', 'x', 'PX', 600_000);
  await c.select(0);
  await c.call('FUNCTION', 'LOAD', LIBRARY);
}

/** Each library's name and code, read with FUNCTION LIST WITHCODE (not the engine's reader). */
export async function libraries(c: Redis): Promise<string[]> {
  const list = (await c.call('FUNCTION', 'LIST', 'WITHCODE')) as unknown[][];
  return list
    .map((lib) => {
      const at = (name: string) => lib[lib.indexOf(name) + 1];
      return `${String(at('library_name'))}\n${String(at('library_code'))}`;
    })
    .sort();
}

export async function startServers(names: readonly ServerName[]): Promise<Map<ServerName, RedisServer>> {
  const started = await Promise.all(names.map((server) => startRedis({ server })));
  return new Map(names.map((n, i) => [n, started[i]!]));
}
