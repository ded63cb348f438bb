// Peak memory of `migration-buddy verify` on one big key per type: two throwaway redis-servers
// get the same key (a list, hash, set, zset, stream of 1 MiB elements, or one big string), then
// the real CLI verifies it in a child process whose peak RSS (VmHWM in /proc/<pid>/status) is
// sampled until it exits.
//
//   npx tsx bench/verify-big-key.ts [--mb 200] [--element-kb 1024] [--types list,hash,...]
//                                   [--maxmemory 4gb] [--compare-by auto|digest]
//
// Paths: without maxmemory verify asks MEMORY USAGE first and never DUMPs the big key; with room
// under maxmemory it DUMPs it under a byte cap and drains the payload; --compare-by digest skips
// DUMP and meets the key in the first-chunk pipeline.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { jsonReport, runCli } from '../test/harness/cli.js';
import { type RedisServer, startRedis } from '../test/harness/redis-server.js';

const TYPES = ['list', 'hash', 'set', 'zset', 'string', 'stream'] as const;
type BigType = (typeof TYPES)[number];

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '200' },
    'element-kb': { type: 'string', default: '1024' },
    types: { type: 'string', default: TYPES.join(',') },
    maxmemory: { type: 'string' },
    'compare-by': { type: 'string', default: 'auto' },
  },
});
const totalBytes = Number(values.mb) * 1024 * 1024;
const elementBytes = Number(values['element-kb']) * 1024;
const elements = Math.max(1, Math.round(totalBytes / elementBytes));
const types = values.types.split(',') as BigType[];
for (const t of types) if (!TYPES.includes(t)) throw new Error(`unknown type ${t}`);

/** Element i: random bytes, made unique by its index up front (set and zset members). */
const base = randomBytes(elementBytes);
function element(i: number): Buffer {
  const out = Buffer.from(base);
  out.writeUInt32BE(i, 0);
  return out;
}

async function write(client: Redis, type: BigType): Promise<void> {
  const key = `big:${type}`;
  for (let at = 0; at < elements; at += 16) {
    const p = client.pipeline();
    for (let i = at; i < Math.min(elements, at + 16); i++) {
      const e = element(i);
      if (type === 'list') p.rpush(key, e);
      else if (type === 'hash') p.hset(key, `field:${i}`, e);
      else if (type === 'set') p.sadd(key, e);
      else if (type === 'zset') p.zadd(key, i, e);
      else if (type === 'string') p.append(key, e);
      else p.xadd(key, `${i + 1}-0`, 'payload', e);
    }
    await p.exec();
  }
}

async function verifyCli(source: RedisServer, target: RedisServer) {
  const args = ['verify', source.url, target.url, '--json', '--compare-by', values['compare-by']];
  const started = Date.now();
  const run = await runCli(args);
  // --json: stdout is the report alone.
  const report = run.code === 0 || run.code === 1 ? jsonReport(run.stdout) : undefined;
  return { code: run.code, peak: run.peakRssBytes, ms: Date.now() - started, report };
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const configLines = values.maxmemory ? [`maxmemory ${values.maxmemory}`] : [];
const [source, target] = await Promise.all([startRedis({ configLines }), startRedis({ configLines })]);
try {
  const a = await source.client();
  const b = await target.client();
  console.log(
    `one key of ${mb(elements * elementBytes)} per type (${elements} elements of ${values['element-kb']} KiB)` +
      (values.maxmemory ? `, maxmemory ${values.maxmemory}` : '') +
      `, --compare-by ${values['compare-by']}`,
  );
  for (const type of types) {
    await Promise.all([a.flushall(), b.flushall()]);
    await Promise.all([write(a, type), write(b, type)]);
    const run = await verifyCli(source, target);
    const verdict = run.code === 0 ? 'identical' : `exit ${run.code}`;
    console.log(
      `${type.padEnd(7)} ${verdict.padEnd(10)} ${(run.ms / 1000).toFixed(1).padStart(6)} s  peak RSS ${mb(run.peak)}` +
        `  (compared by ${String(run.report?.comparedBy ?? '?')}; sizes probed: ${String((run.report?.sizeProbe as { perKey?: boolean } | undefined)?.perKey ?? '?')})`,
    );
  }
} finally {
  await Promise.all([source.stop(), target.stop()]);
}
