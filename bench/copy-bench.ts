// `npm run bench`: copy, verify and Redis's own replication timed on the same dataset and servers.
//
//   npx tsx bench/copy-bench.ts [--keys 1000000] [--seed 42] [--ttl-fraction 0.3] [--digest]
//                               [--skip-copy] [--json]
// (--ttl-fraction 0: a dataset without TTLs, which copy and verify read without PTTL per key).
//
// Starts three scratch redis-servers (source, copy target, replica), loads a reproducible dataset
// into the source (bench/dataset.ts), then times:
//   0. our copy with --size-probe (MEMORY USAGE before every DUMP), then empties the target;
//   1. our copy (copyKeys) source -> target, in a child process so its peak RSS is its own. The
//      source has maxmemory 8gb, as a production source with room to spare would: its size probe
//      decides 'auto' on that (src/engine/copy/size-probe.ts);
//   2. our verify source vs target (same, child process); --digest adds a run that compares every
//      value by type instead of by DUMP payload;
//   3. the reference: a fresh server doing REPLICAOF source (diskless, no delay) until the link is
//      up and its DBSIZE matches.
// Figures are noisy: the machine (2 cores here) is shared by the servers, the tool and anything
// else running. CPU seconds per key hold better than wall time: per process (source, target, tool)
// from /proc/<pid>/stat (utime + stime + cutime + cstime; the tool's counted from when its modules
// are loaded), with the targets as ratios to the full sync of the same run, and what each server's
// commands took per key (INFO commandstats deltas) to show where the time goes.
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { type RedisServer, startRedis } from '../test/harness/redis-server.js';
import type { ChildResult } from './child-output.js';
import { type DatasetSummary, loadDataset } from './dataset.js';
import { procCpuMs } from './proc-cpu.js';

// `--cluster`: the cluster shard-jobs bench instead (bench/cluster-bench.ts).
if (process.argv.includes('--cluster')) {
  const { runClusterBench } = await import('./cluster-bench.js');
  process.exit(await runClusterBench(process.argv.slice(2).filter((a) => a !== '--cluster')));
}

const TARGETS = {
  copyKeysPerSecond: 150_000,
  verifyKeysPerSecond: 200_000,
  copierRssBytes: 300 * 1024 * 1024,
  /** The scan path's total CPU per key (source + target + tool) over Redis's own full sync's. */
  copyCpuRatio: 2.0,
  /** Verify's total CPU per key, microseconds. */
  verifyCpuUsPerKey: 9,
};

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '42' },
    'ttl-fraction': { type: 'string', default: '0.3' },
    digest: { type: 'boolean', default: false },
    'skip-copy': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const keys = Number(values.keys);
const seed = Number(values.seed);
const ttlFraction = Number(values['ttl-fraction']);
if (!(ttlFraction >= 0 && ttlFraction <= 1)) throw new Error('--ttl-fraction must be between 0 and 1');
if (!Number.isInteger(keys) || keys < 1) throw new Error('--keys must be a positive integer');

const here = dirname(fileURLToPath(import.meta.url));

interface PhaseResult {
  name: string;
  ok: boolean;
  error?: string;
  keys: number;
  durationMs: number;
  keysPerSecond: number;
  maxRssBytes?: number;
  toolCpuMs?: number;
  sourceCpuMs: number;
  targetCpuMs: number;
  sourceCommands?: CommandDelta[];
  targetCommands?: CommandDelta[];
  report?: unknown;
}

/** Per command: calls and microseconds (INFO commandstats). */
type CommandStats = Map<string, { calls: number; usec: number }>;

async function commandStats(client: Redis): Promise<CommandStats> {
  const stats: CommandStats = new Map();
  for (const m of (await client.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    stats.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return stats;
}

/** What ran between two snapshots: per command, calls and usec, most expensive first. */
function statsDelta(before: CommandStats, after: CommandStats): CommandDelta[] {
  const out: CommandDelta[] = [];
  for (const [name, a] of after) {
    const b = before.get(name) ?? { calls: 0, usec: 0 };
    if (a.calls > b.calls) out.push({ name, calls: a.calls - b.calls, usec: a.usec - b.usec });
  }
  return out.sort((x, y) => y.usec - x.usec);
}

interface CommandDelta {
  name: string;
  calls: number;
  usec: number;
}

/** A server's CPU and what its commands took, snapshotted around a phase. */
async function serverSnapshot(server: RedisServer, client: Redis) {
  return { cpuMs: procCpuMs(server.pid), stats: await commandStats(client) };
}

/** Runs a bench child (tsx) and parses the JSON on its last stdout line. */
function runChild(script: string, args: string[]): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, script), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as ChildResult);
      } catch {
        reject(new Error(`${script} exited with code ${code} without a result: ${out.slice(-500)}`));
      }
    });
  });
}

interface Side {
  server: RedisServer;
  client: Redis;
}

async function timedChild(
  name: string,
  script: string,
  args: string[],
  source: Side,
  target: Side,
): Promise<PhaseResult> {
  const s0 = await serverSnapshot(source.server, source.client);
  const t0 = await serverSnapshot(target.server, target.client);
  const r = await runChild(script, args);
  const s1 = await serverSnapshot(source.server, source.client);
  const t1 = await serverSnapshot(target.server, target.client);
  const phase: PhaseResult = {
    name,
    ok: r.ok,
    keys: r.keys,
    durationMs: r.durationMs,
    keysPerSecond: r.keysPerSecond,
    maxRssBytes: r.maxRssBytes,
    toolCpuMs: r.cpuMs,
    sourceCpuMs: s1.cpuMs - s0.cpuMs,
    targetCpuMs: t1.cpuMs - t0.cpuMs,
    sourceCommands: statsDelta(s0.stats, s1.stats),
    targetCommands: statsDelta(t0.stats, t1.stats),
    report: r.report,
  };
  if (r.error) phase.error = r.error;
  return phase;
}

/** REPLICAOF from a fresh server until the link is up and DBSIZE matches the source. */
async function replicationReference(
  source: RedisServer,
  sourceClient: Redis,
  replica: RedisServer,
): Promise<PhaseResult> {
  const client = await replica.client();
  const expected = await sourceClient.dbsize();
  const [s0, t0] = [procCpuMs(source.pid), procCpuMs(replica.pid)];
  const started = Date.now();
  await client.call('REPLICAOF', source.host, String(source.port));
  const deadline = started + 600_000;
  for (;;) {
    const info = await client.info('replication');
    if (/master_link_status:up/.test(info) && (await client.dbsize()) === expected) break;
    if (Date.now() > deadline) throw new Error('replication did not finish within 10 minutes');
    await new Promise((r) => setTimeout(r, 10));
  }
  const durationMs = Date.now() - started;
  const [s1, t1] = [procCpuMs(source.pid), procCpuMs(replica.pid)];
  await client.call('REPLICAOF', 'NO', 'ONE');
  return {
    name: 'replication (REPLICAOF)',
    ok: true,
    keys: expected,
    durationMs,
    keysPerSecond: Math.round((expected * 1000) / Math.max(1, durationMs)),
    sourceCpuMs: s1 - s0,
    targetCpuMs: t1 - t0,
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const mb = (bytes: number | undefined) =>
  bytes === undefined ? '-' : `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const sec = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '),
    )
    .join('\n');
}

function render(dataset: DatasetSummary, phases: PhaseResult[]): string {
  const lines: string[] = [];
  const t = dataset.byType;
  lines.push(
    `dataset: ${fmt(dataset.keys)} keys (seed ${seed}): ${fmt(t.string)} strings, ${fmt(t.hash)} hashes, ` +
      `${fmt(t.list)} lists, ${fmt(t.set)} sets, ${fmt(t.zset)} zsets; ${fmt(dataset.withTtl)} with a TTL`,
    `loaded in ${sec(dataset.durationMs)} (${fmt((dataset.keys * 1000) / dataset.durationMs)} keys/s)`,
    '',
  );
  const rows = [
    [
      'phase',
      'keys',
      'time',
      'keys/s',
      'peak RSS',
      'tool CPU',
      'source CPU',
      'source busy',
      'target CPU',
      'result',
    ],
  ];
  for (const p of phases) {
    rows.push([
      p.name,
      fmt(p.keys),
      sec(p.durationMs),
      fmt(p.keysPerSecond),
      mb(p.maxRssBytes),
      sec(p.toolCpuMs),
      sec(p.sourceCpuMs),
      `${Math.round((100 * p.sourceCpuMs) / Math.max(1, p.durationMs))}%`,
      sec(p.targetCpuMs),
      p.ok ? 'ok' : `FAILED: ${p.error ?? ''}`,
    ]);
  }
  lines.push(table(rows), '');
  for (const p of phases) {
    const r = p.report as
      | {
          comparedBy?: string;
          comparisons?: { byPayload: number; byType: number };
          differentKeys?: number;
          differences?: Record<string, { count: number; samples: { detail?: string }[] }>;
        }
      | undefined;
    if (r?.comparisons) {
      lines.push(
        `${p.name}: values compared by ${r.comparedBy} (${fmt(r.comparisons.byPayload)} by DUMP payload, ` +
          `${fmt(r.comparisons.byType)} by type); ${fmt(r.differentKeys ?? 0)} keys differ`,
      );
      // Which kind, with one example each: a verify that fails says why.
      for (const [cls, d] of Object.entries(r.differences ?? {})) {
        if (d.count > 0) lines.push(`  ${cls}: ${fmt(d.count)}, e.g. ${d.samples[0]?.detail ?? '-'}`);
      }
    }
  }
  const copy = phases.find((p) => p.name.startsWith('copy ('));
  const probe = (copy?.report as { sizeProbe?: { perKey: boolean; reason: string } } | undefined)?.sizeProbe;
  if (probe) {
    lines.push(
      `copy: size probe per key ${probe.perKey ? 'on' : 'off'}: ${probe.reason}` +
        ' (copy --size-probe forces it on)',
    );
  }
  const verify = phases.find((p) => p.name === 'verify');
  const repl = phases.find((p) => p.name.startsWith('replication'));
  if (copy && repl) {
    lines.push(
      `copy / replication: ${(copy.keysPerSecond / repl.keysPerSecond).toFixed(2)}x the keys/s of Redis's own full sync`,
    );
  }
  // The source is one thread: 100% busy means no client-side copy could go faster on it.
  lines.push(
    "source busy: the source's CPU time over the phase's time; near 100% the phase is bound by " +
      'the source (one thread), whatever the tool does',
  );
  lines.push('', ...cpuPerKey(phases), '');
  for (const p of phases) lines.push(...commandLines(p));
  const pass = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  const targetRows = [['target', 'measured', '']];
  const perKey = (p: PhaseResult) => totalCpuMs(p) / Math.max(1, p.keys);
  if (copy && repl) {
    const ratio = perKey(copy) / perKey(repl);
    targetRows.push([
      `copy CPU/key <= ${TARGETS.copyCpuRatio}x the full sync's`,
      `${ratio.toFixed(2)}x`,
      pass(copy.ok && ratio <= TARGETS.copyCpuRatio),
    ]);
  }
  const probed = phases.find((p) => p.name === 'copy --size-probe');
  if (probed && repl) {
    targetRows.push([
      'copy --size-probe CPU/key over the full sync',
      `${(perKey(probed) / perKey(repl)).toFixed(2)}x`,
      '',
    ]);
  }
  if (verify) {
    const us = perKey(verify) * 1000;
    targetRows.push([
      `verify CPU/key <= ${TARGETS.verifyCpuUsPerKey} us`,
      `${us.toFixed(2)} us`,
      pass(verify.ok && us <= TARGETS.verifyCpuUsPerKey),
    ]);
  }
  if (copy) {
    targetRows.push([
      `copy >= ${fmt(TARGETS.copyKeysPerSecond)} keys/s`,
      fmt(copy.keysPerSecond),
      pass(copy.ok && copy.keysPerSecond >= TARGETS.copyKeysPerSecond),
    ]);
    targetRows.push([
      `copier peak RSS < ${mb(TARGETS.copierRssBytes)}`,
      mb(copy.maxRssBytes),
      pass(copy.ok && (copy.maxRssBytes ?? Infinity) < TARGETS.copierRssBytes),
    ]);
  }
  if (verify) {
    targetRows.push([
      `verify >= ${fmt(TARGETS.verifyKeysPerSecond)} keys/s`,
      fmt(verify.keysPerSecond),
      pass(verify.ok && verify.keysPerSecond >= TARGETS.verifyKeysPerSecond),
    ]);
    targetRows.push(['verifier peak RSS', mb(verify.maxRssBytes), '']);
  }
  lines.push(
    '',
    table(targetRows),
    '',
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (other work on the machine skews these figures)`,
  );
  return lines.join('\n');
}

function totalCpuMs(p: PhaseResult): number {
  return p.sourceCpuMs + p.targetCpuMs + (p.toolCpuMs ?? 0);
}

/** CPU microseconds per key of each process, and each phase's total over the full sync's. */
function cpuPerKey(phases: PhaseResult[]): string[] {
  const us = (ms: number | undefined, keys: number) =>
    ms === undefined ? '-' : ((ms * 1000) / Math.max(1, keys)).toFixed(2);
  const repl = phases.find((p) => p.name.startsWith('replication'));
  const replPerKey = repl ? totalCpuMs(repl) / Math.max(1, repl.keys) : undefined;
  const rows = [['CPU us/key (/proc/<pid>/stat)', 'source', 'target', 'tool', 'total', 'x full sync']];
  for (const p of phases) {
    const perKey = totalCpuMs(p) / Math.max(1, p.keys);
    rows.push([
      p.name,
      us(p.sourceCpuMs, p.keys),
      us(p.targetCpuMs, p.keys),
      us(p.toolCpuMs, p.keys),
      us(totalCpuMs(p), p.keys),
      replPerKey ? `${(perKey / replPerKey).toFixed(2)}x` : '-',
    ]);
  }
  return [table(rows)];
}

/** Per command on each server (INFO commandstats): calls per key and the server's usec per key. */
function commandLines(p: PhaseResult): string[] {
  const lines: string[] = [];
  for (const [side, cmds] of [
    ['source', p.sourceCommands],
    ['target', p.targetCommands],
  ] as const) {
    if (!cmds || cmds.length === 0) continue;
    const keys = Math.max(1, p.keys);
    const parts = cmds
      .filter((c) => c.usec * 100 >= keys) // under 0.01 us/key: noise
      .map((c) => `${c.name} ${(c.usec / keys).toFixed(2)} us (${(c.calls / keys).toFixed(2)}/key)`);
    const total = cmds.reduce((sum, c) => sum + c.usec, 0) / keys;
    lines.push(
      `${p.name}, ${side} commandstats per key: ${total.toFixed(2)} us in commands: ${parts.join(', ')}`,
    );
  }
  return lines;
}

async function main(): Promise<void> {
  const servers: RedisServer[] = [];
  // Ctrl-C: stop the servers before going (children get the signal from the terminal themselves).
  const onSignal = () => {
    void Promise.allSettled(servers.map((s) => s.stop())).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const start = async (lines: string[] = []) => {
      const s = await startRedis({ configLines: lines });
      servers.push(s);
      return s;
    };
    const source = await start(['repl-diskless-sync yes', 'repl-diskless-sync-delay 0', 'maxmemory 8gb']);
    const target = await start();
    const replica = await start();
    const sourceClient = await source.client();
    const targetClient = await target.client();
    const src: Side = { server: source, client: sourceClient };
    const dst: Side = { server: target, client: targetClient };
    if (!values.json) process.stderr.write(`loading ${fmt(keys)} keys...\n`);
    const dataset = await loadDataset(source, { keys, seed, ttlFraction });
    const phases: PhaseResult[] = [];
    const step = async (label: string, fn: () => Promise<PhaseResult>) => {
      if (!values.json) process.stderr.write(`${label}...\n`);
      phases.push(await fn());
    };
    if (!values['skip-copy']) {
      await step('copy --size-probe', () =>
        timedChild('copy --size-probe', 'copy-child.ts', [source.url, target.url, 'always'], src, dst),
      );
      await targetClient.flushall();
      await step('copy', () =>
        timedChild('copy (copyKeys)', 'copy-child.ts', [source.url, target.url], src, dst),
      );
    } else {
      // Without our copy, verify the replica's copy instead.
      await replicaCopy(source, sourceClient, target);
    }
    await step('verify', () =>
      timedChild('verify', 'verify-child.ts', [source.url, target.url, 'auto'], src, dst),
    );
    if (values.digest) {
      await step('verify --compare-by digest', () =>
        timedChild('verify (by type)', 'verify-child.ts', [source.url, target.url, 'digest'], src, dst),
      );
    }
    await step('replication', () => replicationReference(source, sourceClient, replica));
    if (values.json)
      process.stdout.write(`${JSON.stringify({ dataset, phases, targets: TARGETS }, null, 2)}\n`);
    else process.stdout.write(`${render(dataset, phases)}\n`);
  } finally {
    await Promise.allSettled(servers.map((s) => s.stop()));
  }
}

/** --skip-copy: fill the target by replication so verify still has something to compare. */
async function replicaCopy(source: RedisServer, sourceClient: Redis, target: RedisServer): Promise<void> {
  await replicationReference(source, sourceClient, target);
}

await main();
