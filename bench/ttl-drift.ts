// How far apart the source's and the target's expiry times are after a copy: the figure verify's
// default TTL tolerance is derived from. Two throwaway redis-servers, keys with TTLs (1 h to 1 d)
// on the source, copyKeys, then PEXPIRETIME of every key on both sides. Also the clock offset
// between the servers as verify measures it (TIME, smallest round trip), and how much PTTLs read
// on both sides at the same time differ (what verify compared before it used PEXPIRETIME).
//
//   npx tsx bench/ttl-drift.ts [--keys 200000] [--runs 3]
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { copyKeys } from '../src/engine/copy/index.js';
import { RespConnection } from '../src/engine/resp/index.js';
import { decideExpiryClock } from '../src/engine/verify/expiry.js';
import { parseEndpointUrl } from '../src/redis/endpoint.js';
import { type RedisServer, startRedis } from '../test/harness/redis-server.js';

const { values } = parseArgs({
  options: { keys: { type: 'string', default: '200000' }, runs: { type: 'string', default: '3' } },
});
const total = Number(values.keys);

async function load(client: Redis): Promise<void> {
  for (let at = 0; at < total; at += 5000) {
    const p = client.pipeline();
    for (let i = at; i < Math.min(total, at + 5000); i++) {
      p.set(`ttl:${i}`, `value-${i}`, 'PX', 3_600_000 + ((i * 7919) % 82_800_000));
    }
    await p.exec();
  }
}

/** PEXPIRETIME of every key on both sides, in pages; returns target minus source for each key. */
async function drift(a: Redis, b: Redis): Promise<number[]> {
  const out: number[] = [];
  for (let at = 0; at < total; at += 5000) {
    const keys = Array.from({ length: Math.min(5000, total - at) }, (_, j) => `ttl:${at + j}`);
    const read = (c: Redis) => {
      const p = c.pipeline();
      for (const k of keys) p.call('PEXPIRETIME', k);
      return p.exec();
    };
    const [ra, rb] = await Promise.all([read(a), read(b)]);
    for (let j = 0; j < keys.length; j++) {
      const x = Number(ra![j]![1]);
      const y = Number(rb![j]![1]);
      if (x > 0 && y > 0) out.push(y - x);
    }
  }
  return out;
}

/** |PTTL_source - PTTL_target| of keys with one absolute expiry, read by pipelines at once. */
async function pttlSpread(a: Redis, b: Redis): Promise<number[]> {
  const out: number[] = [];
  for (let at = 0; at < Math.min(total, 50_000); at += 5000) {
    const keys = Array.from({ length: 5000 }, (_, j) => `ttl:${at + j}`);
    const read = (c: Redis) => {
      const p = c.pipeline();
      for (const k of keys) p.pttl(k);
      return p.exec();
    };
    const [ra, rb] = await Promise.all([read(a), read(b)]);
    for (let j = 0; j < keys.length; j++) out.push(Math.abs(Number(ra![j]![1]) - Number(rb![j]![1])));
  }
  return out;
}

function summary(values: number[]): string {
  const sorted = [...values].sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `n=${sorted.length} p50=${at(0.5)} p99=${at(0.99)} p99.9=${at(0.999)} max=${sorted[sorted.length - 1]} ms`;
}

const servers: RedisServer[] = [];
try {
  const [source, target] = await Promise.all([startRedis(), startRedis()]);
  servers.push(source, target);
  const a = await source.client();
  const b = await target.client();
  await load(a);
  for (let run = 1; run <= Number(values.runs); run++) {
    await b.flushall();
    const started = Date.now();
    await copyKeys(parseEndpointUrl(source.url, 'source'), parseEndpointUrl(target.url, 'target'), {
      dbs: 'all',
      onNonEmptyTarget: 'replace',
    });
    const copyMs = Date.now() - started;
    const d = drift(a, b);
    const [src, dst] = await Promise.all([
      RespConnection.open(parseEndpointUrl(source.url, 'source')),
      RespConnection.open(parseEndpointUrl(target.url, 'target')),
    ]);
    const clock = await decideExpiryClock(src, dst);
    src.destroy();
    dst.destroy();
    console.log(`run ${run}: copy of ${total} keys in ${copyMs} ms`);
    const signed = await d;
    const early = signed.filter((x) => x < 0).length;
    console.log(`  |PEXPIRETIME target - source|: ${summary(signed.map(Math.abs))}`);
    console.log(
      `  target expires earlier for ${early} keys, later for ${signed.filter((x) => x > 0).length}; ` +
        `most earlier ${-signed.reduce((m, x) => Math.min(m, x), 0)} ms, most later ${signed.reduce((m, x) => Math.max(m, x), 0)} ms`,
    );
    console.log(`  clock offset as verify measures it: ${JSON.stringify(clock)}`);
    console.log(`  |PTTL source - PTTL target| read at once: ${summary(await pttlSpread(a, b))}`);
  }
} finally {
  await Promise.all(servers.map((s) => s.stop()));
}
