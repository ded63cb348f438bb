// Quick local copy benchmark: two throwaway redis-servers, a synthetic dataset loaded with
// `redis-cli --pipe`, then copyKeys timed in this process. Prints keys/s and peak RSS.
//
//   npx tsx bench/copy-quick.ts [--keys 200000] [--mode auto|dump|by-type] [--batch 1000]
//                               [--profile out.cpuprofile]   (CPU profile of the copy phase only)
//
// Dataset (as in the copy issue): 60% 100-byte strings, 15% hashes of 10 fields, 10% lists of 10,
// 10% sets of 10, 5% zsets of 10; 30% of keys with a TTL. Figures are noisy on a shared machine.
import { spawn } from 'node:child_process';
import { createWriteStream, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { copyKeys } from '../src/engine/copy/index.js';
import type { CopyMode } from '../src/engine/copy/types.js';
import { parseEndpointUrl } from '../src/redis/endpoint.js';
import { startRedis } from '../test/harness/redis-server.js';

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '200000' },
    mode: { type: 'string', default: 'auto' },
    batch: { type: 'string' },
    profile: { type: 'string' },
  },
});
const total = Number(values.keys);

function resp(args: (string | Buffer)[]): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return out;
}

async function writeDataset(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  const value = 'v'.repeat(100);
  const ten = (p: string) => Array.from({ length: 10 }, (_, i) => `${p}${i}`);
  for (let i = 0; i < n; i++) {
    const r = i % 20; // 12 string, 3 hash, 2 list, 2 set, 1 zset
    const key = `key:${i}`;
    let cmd: string;
    if (r < 12) cmd = resp(['SET', key, value]);
    else if (r < 15) cmd = resp(['HSET', key, ...ten('field').flatMap((f) => [f, `value-of-${f}`])]);
    else if (r < 17) cmd = resp(['RPUSH', key, ...ten('item-')]);
    else if (r < 19) cmd = resp(['SADD', key, ...ten('member-')]);
    else cmd = resp(['ZADD', key, ...ten('m').flatMap((m, j) => [String(j * 1.5), m])]);
    if (i % 10 < 3) cmd += resp(['PEXPIRE', key, String(3_600_000 + i)]);
    if (!out.write(cmd)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
}

async function pipeInto(port: number, file: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('sh', ['-c', `redis-cli -p ${port} --pipe < ${file}`], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`redis-cli --pipe exited ${code}`)),
    );
  });
}

const dir = await mkdtemp(join(tmpdir(), 'mb-bench-'));
const source = await startRedis();
const target = await startRedis();
try {
  const file = join(dir, 'data.resp');
  let t = Date.now();
  await writeDataset(file, total);
  await pipeInto(source.port, file);
  process.stderr.write(`loaded ${total} keys in ${Date.now() - t} ms\n`);
  const rssBefore = process.resourceUsage().maxRSS;
  const inspector = values.profile ? new Session() : undefined;
  if (inspector) {
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.start');
  }
  const srcAdmin = await source.client();
  const dstAdmin = await target.client();
  const serverCpu = async (c: typeof srcAdmin) => {
    const info = await c.info('cpu');
    const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    return field('used_cpu_user') + field('used_cpu_sys');
  };
  const cpuBefore = {
    copier: process.cpuUsage(),
    source: await serverCpu(srcAdmin),
    target: await serverCpu(dstAdmin),
  };
  t = Date.now();
  const report = await copyKeys(
    parseEndpointUrl(source.url, 'bench-source'),
    parseEndpointUrl(target.url, 'bench-target'),
    {
      dbs: 'all',
      onNonEmptyTarget: 'refuse',
      mode: values.mode as CopyMode,
      ...(values.batch ? { batchSize: Number(values.batch) } : {}),
    },
  );
  const ms = Date.now() - t;
  if (inspector && values.profile) {
    const { profile } = await inspector.post('Profiler.stop');
    writeFileSync(values.profile, JSON.stringify(profile));
  }
  const copierCpu = process.cpuUsage(cpuBefore.copier);
  const perKey = (seconds: number) => Math.round((seconds * 1e6 * 100) / total) / 100;
  const cpuPerKeyUs = {
    copier: perKey((copierCpu.user + copierCpu.system) / 1e6),
    copierSystem: perKey(copierCpu.system / 1e6),
    source: perKey((await serverCpu(srcAdmin)) - cpuBefore.source),
    target: perKey((await serverCpu(dstAdmin)) - cpuBefore.target),
  };
  const copied = await dstAdmin.dbsize();
  const result = {
    keys: total,
    keysOnTarget: copied,
    mode: values.mode,
    seconds: ms / 1000,
    keysPerSecond: Math.round(total / (ms / 1000)),
    mbPerSecond: Math.round((report.bytesCopied / 1e6 / (ms / 1000)) * 10) / 10,
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    rssBeforeCopyMB: Math.round(rssBefore / 1024),
    failed: report.keysFailed,
    // CPU per key of each process: on an idle 2-core machine throughput is bounded by
    // 1e6 / max(each) and 2e6 / sum(all), whatever the wall-clock noise here.
    cpuPerKeyUs,
    idleMachineBoundKeysPerSecond: Math.round(
      Math.min(
        1e6 / Math.max(cpuPerKeyUs.copier, cpuPerKeyUs.source, cpuPerKeyUs.target),
        2e6 / (cpuPerKeyUs.copier + cpuPerKeyUs.source + cpuPerKeyUs.target),
      ),
    ),
  };
  console.log(JSON.stringify(result));
  if (process.env.BENCH_COMMANDSTATS) {
    for (const [name, c] of [
      ['source', srcAdmin],
      ['target', dstAdmin],
    ] as const) {
      const stats = (await c.info('commandstats')).split('\n').filter((l) => /calls=\d{4,}/.test(l));
      console.log(name, stats.map((l) => l.replace(/,rejected.*$/, '')).join('\n  '));
    }
  }
} finally {
  await source.stop();
  await target.stop();
  await rm(dir, { recursive: true, force: true });
}
