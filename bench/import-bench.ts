// bench:import: `migration-buddy import` of an RDB file against Redis's own load of the same file
// at startup (`dbfilename`), in the same run. Prints keys/s and CPU per key (utime + stime from
// /proc/<pid>/stat for the servers, process.cpuUsage for the tool, which runs in this process),
// and the ratios. Usage: npm run bench:import -- [--keys 1000000]
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { importRdbFile } from '../src/engine/rdb-import/index.js';
import { parseEndpointUrl } from '../src/redis/endpoint.js';
import { startRedis } from '../test/harness/redis-server.js';
import { loadDataset } from './dataset.js';

const { values } = parseArgs({ options: { keys: { type: 'string', default: '1000000' } } });
const keys = Number(values.keys);
const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

/** CPU seconds (user + system) a live process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

const scratch = mkdtempSync(join(tmpdir(), 'mb-bench-import-'));
try {
  const source = await startRedis();
  let file: string;
  try {
    const t = Date.now();
    await loadDataset(source, { keys, seed: 42 });
    const c = await source.client();
    await c.call('SAVE');
    const dir = ((await c.config('GET', 'dir')) as string[])[1]!;
    file = join(scratch, 'bench.rdb');
    copyFileSync(join(dir, 'dump.rdb'), file);
    process.stderr.write(
      `wrote ${keys} keys and saved them in ${Date.now() - t} ms (${statSync(file).size} bytes)\n`,
    );
  } finally {
    await source.stop();
  }

  // Redis's own load: a server started on a copy of the file answers PING once it has loaded it.
  const loadDir = join(scratch, 'load');
  rmSync(loadDir, { recursive: true, force: true });
  mkdirSync(loadDir);
  copyFileSync(file, join(loadDir, 'dump.rdb'));
  const loadStart = performance.now();
  const loader = await startRedis({ configLines: [`dir ${loadDir}`, 'dbfilename dump.rdb'] });
  const loadMs = performance.now() - loadStart;
  const loadCpu = cpuSeconds(loader.pid);
  const loaded = Number(/keys=(\d+)/.exec(await (await loader.client()).info('keyspace'))?.[1] ?? 0);
  await loader.stop();
  if (loaded !== keys) throw new Error(`redis-server loaded ${loaded} keys, not ${keys}`);

  const target = await startRedis();
  try {
    const targetCpuBefore = cpuSeconds(target.pid);
    const toolCpuBefore = process.cpuUsage();
    const importStart = performance.now();
    const report = await importRdbFile(file, parseEndpointUrl(target.url, 'bench-target'), {
      onNonEmptyTarget: 'refuse',
      dbs: 'all',
    });
    const importMs = performance.now() - importStart;
    const tool = process.cpuUsage(toolCpuBefore);
    const toolCpu = (tool.user + tool.system) / 1e6;
    const targetCpu = cpuSeconds(target.pid) - targetCpuBefore;
    if (report.keysRestored !== keys)
      throw new Error(`import restored ${report.keysRestored} keys, not ${keys}`);

    const us = (s: number) => (s * 1e6) / keys;
    const importRate = (keys * 1000) / importMs;
    const loadRate = (keys * 1000) / loadMs;
    const importCpu = us(toolCpu + targetCpu);
    const lines = [
      `RDB import of ${keys.toLocaleString('en-US')} keys (${report.fileBytes.toLocaleString('en-US')} bytes, RDB ${report.rdbVersion})`,
      `  migration-buddy import: ${Math.round(importRate).toLocaleString('en-US')} keys/s, CPU ${importCpu.toFixed(2)} us/key ` +
        `(tool ${us(toolCpu).toFixed(2)}, target ${us(targetCpu).toFixed(2)}), peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`,
      `  redis-server loading it at startup: ${Math.round(loadRate).toLocaleString('en-US')} keys/s, CPU ${us(loadCpu).toFixed(2)} us/key`,
      `  ratio import / Redis's own load: ${(importRate / loadRate).toFixed(2)}x the keys/s, ${(importCpu / us(loadCpu)).toFixed(2)}x the CPU per key`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await target.stop();
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
