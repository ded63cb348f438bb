// Quick local verify benchmark: two throwaway redis-servers, the bench dataset copied source ->
// target, then verify timed in this process. Prints keys/s, peak RSS and the CPU each process
// spent per key, and what each server's commands took per key (INFO commandstats).
//
//   npx tsx bench/verify-quick.ts [--keys 200000] [--size-probe auto|always] [--maxmemory 4gb]
//                                 [--profile out.cpuprofile]   (CPU profile of verify only)
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { copyKeys } from '../src/engine/copy/index.js';
import { verify } from '../src/engine/verify/index.js';
import { parseEndpointUrl } from '../src/redis/endpoint.js';
import { startRedis } from '../test/harness/redis-server.js';
import { loadDataset } from './dataset.js';
import { procCpuMs } from './proc-cpu.js';

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '200000' },
    profile: { type: 'string' },
    'size-probe': { type: 'string', default: 'auto' },
    /** Both servers' maxmemory: with room to spare, 'auto' skips the per-key size probe. */
    maxmemory: { type: 'string', default: '0' },
  },
});
const total = Number(values.keys);
const config = [`maxmemory ${values.maxmemory}`];
const source = await startRedis({ configLines: config });
const target = await startRedis({ configLines: config });

async function commandStats(server: typeof source): Promise<Map<string, number>> {
  const client = await server.client();
  const out = new Map<string, number>();
  for (const m of (await client.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm))
    out.set(m[1]!, Number(m[3]));
  return out;
}

try {
  await loadDataset(source, { keys: total, seed: 42 });
  const src = parseEndpointUrl(source.url, 'source');
  const dst = parseEndpointUrl(target.url, 'target');
  await copyKeys(src, dst, { dbs: 'all', onNonEmptyTarget: 'refuse' });
  const inspector = values.profile ? new Session() : undefined;
  if (inspector) {
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.start');
  }
  const before = [procCpuMs('self'), procCpuMs(source.pid), procCpuMs(target.pid)];
  const statsBefore = [await commandStats(source), await commandStats(target)];
  const started = Date.now();
  const report = await verify(src, dst, {
    dbs: 'all',
    sizeProbe: values['size-probe'] === 'always' ? 'always' : 'auto',
  });
  const seconds = (Date.now() - started) / 1000;
  const after = [procCpuMs('self'), procCpuMs(source.pid), procCpuMs(target.pid)];
  const statsAfter = [await commandStats(source), await commandStats(target)];
  if (inspector) {
    const { profile } = await inspector.post('Profiler.stop');
    writeFileSync(values.profile!, JSON.stringify(profile));
  }
  const perKey = (i: number) => Number((((after[i]! - before[i]!) * 1000) / total).toFixed(2));
  const commands = (i: number) =>
    Object.fromEntries(
      [...statsAfter[i]!]
        .map(([name, usec]) => [name, Number(((usec - (statsBefore[i]!.get(name) ?? 0)) / total).toFixed(2))])
        .filter(([, us]) => (us as number) >= 0.01),
    );
  process.stdout.write(
    `${JSON.stringify({
      keys: total,
      identical: report.identical,
      differences: report.identical ? undefined : JSON.stringify(report.differences).slice(0, 600),
      seconds,
      keysPerSecond: Math.round(total / seconds),
      peakRssMB: Math.round((process.resourceUsage().maxRSS * 1024) / 1024 / 1024),
      sizeProbe: report.sizeProbe,
      cpuPerKeyUs: { verifier: perKey(0), source: perKey(1), target: perKey(2) },
      commandUsPerKey: { source: commands(0), target: commands(1) },
    })}\n`,
  );
} finally {
  await Promise.allSettled([source.stop(), target.stop()]);
}
