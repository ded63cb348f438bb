// bench:psync: the psync engine's full sync against Redis's own diskless full sync (REPLICAOF into
// a fresh server), same source, same run. CPU per key from /proc/<pid>/stat: the source's main
// process (utime + stime) and its forked child (cutime + cstime, counted once the child exits),
// the target's, and the tool's (its own process.resourceUsage, in a child process that also
// reports its peak RSS). Prints the ratios issue 15 names.
//   npm run bench:psync -- [--keys 1000000]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startRedis } from '../test/harness/redis-server.js';
import type { ChildResult } from './child-output.js';
import { loadDataset } from './dataset.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { keys: { type: 'string', default: '1000000' } } });
const keys = Number(values.keys);
const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

interface Cpu {
  main: number;
  children: number;
}

/** CPU seconds of a live process: its own (all threads) and its reaped children's. */
function cpu(pid: number): Cpu {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    main: (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND,
    children: (Number(f[13]) + Number(f[14])) / TICKS_PER_SECOND,
  };
}

const diff = (a: Cpu, b: Cpu): Cpu => ({ main: b.main - a.main, children: b.children - a.children });

interface Run {
  name: string;
  ms: number;
  source: Cpu;
  target: number;
  tool: number | null;
  rssBytes: number | null;
}

function runChild(args: string[]): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'psync-child.ts'), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as ChildResult);
      } catch {
        reject(new Error(`psync-child exited with code ${code} without a result: ${out.slice(-500)}`));
      }
    });
  });
}

/** Waits until the source's fork has exited, so its CPU shows in cutime/cstime. */
async function childDone(client: { info(s: string): Promise<string> }): Promise<void> {
  for (let i = 0; i < 6000; i++) {
    const info = await client.info('persistence');
    if (/rdb_bgsave_in_progress:0/.test(info)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

const source = await startRedis({
  configLines: ['repl-diskless-sync yes', 'repl-diskless-sync-delay 0', 'save ""'],
});
const servers = [source];
try {
  const t0 = Date.now();
  const summary = await loadDataset(source, { keys, seed: 42 });
  const sc = await source.client();
  const expected = await sc.dbsize();
  process.stderr.write(
    `loaded ${expected} keys in ${Date.now() - t0} ms (${JSON.stringify(summary).slice(0, 200)})\n`,
  );
  const runs: Run[] = [];

  // Redis's own diskless full sync.
  {
    const replica = await startRedis({ configLines: ['save ""'] });
    servers.push(replica);
    const rc = await replica.client();
    const [s0, r0] = [cpu(source.pid), cpu(replica.pid)];
    const started = performance.now();
    await rc.call('REPLICAOF', source.host, String(source.port));
    for (;;) {
      const info = await rc.info('replication');
      if (/master_link_status:up/.test(info) && (await rc.dbsize()) === expected) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const ms = performance.now() - started;
    await childDone(sc);
    const [s1, r1] = [cpu(source.pid), cpu(replica.pid)];
    await rc.call('REPLICAOF', 'NO', 'ONE');
    runs.push({
      name: 'full sync (REPLICAOF)',
      ms,
      source: diff(s0, s1),
      target: r1.main - r0.main,
      tool: null,
      rssBytes: null,
    });
    await replica.stop();
  }

  // The psync engine into a fresh server.
  {
    const target = await startRedis({ configLines: ['save ""'] });
    servers.push(target);
    const tc = await target.client();
    const [s0, r0] = [cpu(source.pid), cpu(target.pid)];
    const result = await runChild([source.url, target.url]);
    // Both from inside the child, from the handshake on: node's and tsx's start-up are not the tool's work.
    const ms = result.durationMs;
    if (!result.ok) throw new Error(`psync failed: ${result.error}`);
    await childDone(sc);
    const [s1, r1] = [cpu(source.pid), cpu(target.pid)];
    const got = await tc.dbsize();
    if (got !== expected) throw new Error(`psync target holds ${got} keys, not ${expected}`);
    runs.push({
      name: 'psync engine',
      ms,
      source: diff(s0, s1),
      target: r1.main - r0.main,
      tool: (result.report as { cpuMs: number }).cpuMs / 1000,
      rssBytes: result.maxRssBytes,
    });
    await target.stop();
  }

  const us = (seconds: number) => `${((seconds * 1e6) / expected).toFixed(2)} us`;
  const total = (r: Run) => r.source.main + r.source.children + r.target + (r.tool ?? 0);
  const rows = [
    ['path', 'keys/s', 'source main', 'source child', 'target', 'tool', 'total', 'tool peak RSS'],
    ...runs.map((r) => [
      r.name,
      Math.round((expected * 1000) / r.ms).toLocaleString('en-US'),
      us(r.source.main),
      us(r.source.children),
      us(r.target),
      r.tool === null ? '-' : us(r.tool),
      us(total(r)),
      r.rssBytes === null ? '-' : `${Math.round(r.rssBytes / 1024 / 1024)} MB`,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  process.stdout.write(`${keys.toLocaleString('en-US')} keys, CPU per key (us = microseconds)\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
  const [ref, ps] = [runs[0]!, runs[1]!];
  process.stdout.write(
    `psync total CPU/key vs full sync: ${(total(ps) / total(ref)).toFixed(2)}x (target <= 1.5x)\n` +
      `psync wall keys/s vs full sync: ${(ref.ms / ps.ms).toFixed(2)}x (target >= 0.8x)\n` +
      `psync source main-process CPU/key: ${us(ps.source.main)} (target <= 0.5 us)\n`,
  );
} finally {
  await Promise.allSettled(servers.map((s) => s.stop()));
}
