// bench:import-by-type: one RDB 12 file (written by Redis 8.0) imported in the same run into
// Redis 8.0 with RESTORE and into Redis 7.0 by type (decoded, native commands). Prints keys/s and
// CPU per key (utime + stime + cutime + cstime of the target from /proc/<pid>/stat,
// process.cpuUsage for the tool, which runs in this process) and the by-type / RESTORE ratios.
// Usage: npm run bench:import-by-type -- [--keys 200000]
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { importRdbFile } from '../src/engine/rdb-import/index.js';
import { parseEndpointUrl } from '../src/redis/endpoint.js';
import { type ServerName, startRedis } from '../test/harness/redis-server.js';
import { loadDataset } from './dataset.js';

const { values } = parseArgs({ options: { keys: { type: 'string', default: '200000' } } });
const keys = Number(values.keys);
const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICKS_PER_SECOND;
}

async function importInto(file: string, server: ServerName) {
  const target = await startRedis({ server });
  try {
    const targetBefore = cpuSeconds(target.pid);
    const toolBefore = process.cpuUsage();
    const start = performance.now();
    const report = await importRdbFile(file, parseEndpointUrl(target.url, 'bench-target'), {
      onNonEmptyTarget: 'refuse',
      dbs: 'all',
      dropFieldTtls: true,
    });
    const ms = performance.now() - start;
    const tool = process.cpuUsage(toolBefore);
    const toolCpu = (tool.user + tool.system) / 1e6;
    const targetCpu = cpuSeconds(target.pid) - targetBefore;
    if (report.keysRestored + report.keysExpired !== keys || report.keysFailed > 0)
      throw new Error(`import into ${server}: ${report.keysRestored} restored, ${report.keysFailed} failed`);
    return {
      report,
      rate: (keys * 1000) / ms,
      toolUs: (toolCpu * 1e6) / keys,
      targetUs: (targetCpu * 1e6) / keys,
    };
  } finally {
    await target.stop();
  }
}

const scratch = mkdtempSync(join(tmpdir(), 'mb-bench-bytype-'));
try {
  const source = await startRedis({ server: 'redis-8.0' });
  const file = join(scratch, 'bench.rdb');
  try {
    await loadDataset(source, { keys, seed: 42 });
    const c = await source.client();
    await c.call('SAVE');
    const dir = ((await c.config('GET', 'dir')) as string[])[1]!;
    copyFileSync(join(dir, 'dump.rdb'), file);
  } finally {
    await source.stop();
  }
  const restore = await importInto(file, 'redis-8.0');
  const byType = await importInto(file, 'redis-7.0');
  if (restore.report.writeMethod !== 'restore' || byType.report.writeMethod !== 'by-type')
    throw new Error('unexpected write methods');
  const line = (name: string, r: typeof restore) =>
    `  ${name}: ${Math.round(r.rate).toLocaleString('en-US')} keys/s, CPU ${(r.toolUs + r.targetUs).toFixed(2)} us/key ` +
    `(tool ${r.toolUs.toFixed(2)}, target ${r.targetUs.toFixed(2)})`;
  const lines = [
    `import of ${keys.toLocaleString('en-US')} keys (${statSync(file).size.toLocaleString('en-US')} bytes, RDB ${restore.report.rdbVersion})`,
    line('RESTORE into Redis 8.0', restore),
    line('by type into Redis 7.0', byType),
    `  ratio by type / RESTORE: ${(byType.rate / restore.rate).toFixed(2)}x the keys/s, ` +
      `${((byType.toolUs + byType.targetUs) / (restore.toolUs + restore.targetUs)).toFixed(2)}x the CPU per key, ` +
      `peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
