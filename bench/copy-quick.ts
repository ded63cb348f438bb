// Quick local copy benchmark: two throwaway redis-servers, the bench dataset, then copyKeys timed
// in this process. Prints keys/s, peak RSS and the CPU each process spent per key.
//
//   npx tsx bench/copy-quick.ts [--keys 200000] [--mode auto|dump|by-type] [--batch 1000]
//                               [--size-probe auto|always] [--maxmemory 4gb]
//                               [--profile out.cpuprofile]   (CPU profile of the copy phase only)
//
// Dataset: the one `npm run bench` uses (bench/dataset.ts, seed 42). Figures are noisy on a shared
// machine; the CPU per key of each process is the steadier figure.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { copyKeys } from '../src/engine/copy/index.js';
import type { CopyMode } from '../src/engine/copy/types.js';
import { parseEndpointUrl } from '../src/redis/endpoint.js';
import { startRedis } from '../test/harness/redis-server.js';
import { loadDataset } from './dataset.js';

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '200000' },
    mode: { type: 'string', default: 'auto' },
    batch: { type: 'string' },
    profile: { type: 'string' },
    'size-probe': { type: 'string', default: 'auto' },
    /** The source's maxmemory: with room to spare, 'auto' skips the per-key size probe. */
    maxmemory: { type: 'string', default: '4gb' },
  },
});
const total = Number(values.keys);

const source = await startRedis({ configLines: [`maxmemory ${values.maxmemory}`] });
const target = await startRedis();
try {
  let t = Date.now();
  await loadDataset(source, { keys: total, seed: 42 });
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
      sizeProbe: values['size-probe'] as 'auto' | 'always',
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
    sizeProbe: report.sizeProbe,
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
}
