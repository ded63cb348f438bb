// `npm run bench:cutover`: whole migrations (`migration-buddy migrate`, as a person would run it)
// while the test app (test/harness/app) writes 2,000 writes/s and is moved by a command repoint
// hook, N runs per strategy.
//
//   npx tsx bench/cutover.ts [--runs 5] [--keys 20000] [--rate 2000] [--strategies dump-restore,psync,replication,migrate] [--json]
//
// Per strategy: acknowledged writes missing on the target (lost: must be 0), the write pause as the
// app saw it (its longest wait for one write: median and max over runs) and as the engine measured
// it on the source, the app's p99 latency, and how many writes each server acknowledged. Each run
// starts fresh servers (control, source, target) and a fresh dataset (bench/dataset.ts).
// Figures are noisy on a shared machine: the app, three servers and the tool share its cores.
//
// Not in the default run: dataset TTLs (--ttl-fraction 0.3), because on a busy machine the
// pre-cutover verify may then fail on TTLs copied a little short, which stops the run before the
// cutover this measures. The app's own PX keys still carry TTLs through every run.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  checkAcknowledged,
  repointHookCommand,
  startApp,
  writeEndpointFile,
} from '../test/harness/app/index.js';
import { scriptedMigrateArgs, writeMigrateConfig } from '../test/harness/migrate-run.js';
import { type RedisServer, startRedis } from '../test/harness/redis-server.js';
import { loadDataset } from './dataset.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    keys: { type: 'string', default: '20000' },
    rate: { type: 'string', default: '2000' },
    strategies: { type: 'string', default: 'dump-restore,psync,replication,migrate' },
    /** Share of dataset keys with a TTL (default 0: see the note at the top). */
    'ttl-fraction': { type: 'string', default: '0' },
    json: { type: 'boolean', default: false },
    /** Print the CLI output of runs that failed. */
    verbose: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const keys = Number(values.keys);
const rate = Number(values.rate);
const strategies = values.strategies.split(',').map((s) => s.trim());
for (const [name, v] of [
  ['--runs', runs],
  ['--keys', keys],
  ['--rate', rate],
] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
}
/** A migration that has not ended by then is stopped (Ctrl-C: the CLI aborts and lifts any pause). */
const RUN_TIMEOUT_MS = 120_000;
/** How long the CLI may take to exit once it printed the migration's end (it should be at once). */
const EXIT_GRACE_MS = 35_000;
const ENDED = /migration m[0-9a-z]+ (succeeded|stopped)/;

interface RunResult {
  ok: boolean;
  error?: string;
  durationMs: number;
  acknowledged: number;
  lost: number;
  appPauseMs: number;
  enginePauseMs: number | null;
  p99Ms: number;
  bySource: number;
  byTarget: number;
  appErrors: number;
  /** The CLI stayed this long after printing the migration's end and was killed. */
  lingeredMs?: number;
}

/** The CLI's run; `lingeredMs` when it had to be stopped after printing the migration's end. */
function runCli(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string; lingeredMs?: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'silent', CONTROL_REDIS_URL: '' },
    });
    let stdout = '';
    let stderr = '';
    let endedAt: number | undefined;
    let lingered: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (endedAt === undefined && ENDED.test(stdout)) {
        endedAt = Date.now();
        lingered = setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS);
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGINT'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(lingered);
      if (signal === 'SIGKILL' && endedAt !== undefined) {
        // The verdict was printed; the process just would not leave.
        const verdict = ENDED.exec(stdout)?.[1] === 'succeeded' ? 0 : 1;
        resolve({ code: verdict, stdout, stderr, lingeredMs: Date.now() - endedAt });
      } else resolve({ code, stdout, stderr });
    });
  });
}

async function oneRun(strategy: string, seed: number): Promise<RunResult> {
  const servers: RedisServer[] = await Promise.all([
    startRedis(),
    startRedis({
      password: 'bench-cutover',
      configLines: ['notify-keyspace-events KEA', 'repl-diskless-sync-delay 0'],
    }),
    startRedis(),
  ]);
  const [control, source, target] = servers as [RedisServer, RedisServer, RedisServer];
  const dir = mkdtempSync(join(tmpdir(), 'mb-bench-cutover-'));
  try {
    await loadDataset(
      { host: source.host, port: source.port, password: source.password },
      { keys, seed, ttlFraction: Number(values['ttl-fraction']) },
    );
    const endpointFile = join(dir, 'endpoint');
    writeEndpointFile(endpointFile, source.url);
    const config = join(dir, 'config.yml');
    writeMigrateConfig(config, {
      source,
      target,
      control,
      hooks: { repoint: { command: repointHookCommand(endpointFile), at: 'repoint' } },
    });
    const app = await startApp({ endpointFile, rate, dir });
    const started = Date.now();
    const run = await runCli(scriptedMigrateArgs(config, strategy));
    const durationMs = Date.now() - started;
    if (run.code !== 0 && values.verbose) process.stderr.write(`${run.stdout}\n${run.stderr}\n`);
    const report = await app.stop();
    const check = await checkAcknowledged(report, target.url);
    const engine = /source writes resumed after a (\d+) ms pause/.exec(run.stdout);
    const failed = /"([^"]+)" failed: (.*)/.exec(run.stdout);
    const at = (s: RedisServer) => report.byServer[`${s.host}:${s.port}`] ?? 0;
    return {
      ok: run.code === 0,
      ...(run.code === 0
        ? {}
        : {
            error: failed
              ? `${failed[1]}: ${failed[2]}`
              : `exit ${run.code}: ${run.stderr.trim().split('\n').at(-1)}`,
          }),
      durationMs,
      acknowledged: report.acknowledged,
      lost: check.missing.length,
      appPauseMs: report.maxWaitMs,
      enginePauseMs: engine ? Number(engine[1]) : null,
      p99Ms: report.p99Ms,
      bySource: at(source),
      byTarget: at(target),
      appErrors: report.errors,
      ...(run.lingeredMs ? { lingeredMs: run.lingeredMs } : {}),
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(n >= 100 ? 0 : 1) : '-');

const results: Record<string, RunResult[]> = {};
for (const strategy of strategies) {
  results[strategy] = [];
  for (let i = 0; i < runs; i++) {
    const r = await oneRun(strategy, 42 + i);
    results[strategy].push(r);
    if (!values.json) {
      process.stderr.write(
        `${strategy} run ${i + 1}/${runs}: ${r.ok ? 'succeeded' : `FAILED (${r.error})`}, ${r.ok ? r.lost : '-'} lost of ` +
          `${r.acknowledged}, app pause ${fmt(r.appPauseMs)} ms, engine pause ${r.enginePauseMs ?? '-'} ms, ` +
          `${(r.durationMs / 1000).toFixed(1)} s` +
          (r.lingeredMs
            ? ` (the CLI did not exit ${Math.round(r.lingeredMs / 1000)} s after the migration ended)`
            : '') +
          '\n',
      );
    }
  }
}

// Pauses, latencies and losses only mean something in runs that cut over.
const summary = Object.entries(results).map(([strategy, all]) => {
  const rs = all.filter((r) => r.ok);
  const engine = rs.map((r) => r.enginePauseMs).filter((v): v is number => v !== null);
  return {
    strategy,
    runs: all.length,
    succeeded: rs.length,
    lostAcknowledged: rs.reduce((n, r) => n + r.lost, 0),
    acknowledged: rs.reduce((n, r) => n + r.acknowledged, 0),
    appPauseMedianMs: median(rs.map((r) => r.appPauseMs)),
    appPauseMaxMs: rs.length ? Math.max(...rs.map((r) => r.appPauseMs)) : Number.NaN,
    enginePauseMedianMs: engine.length ? median(engine) : null,
    p99MedianMs: median(rs.map((r) => r.p99Ms)),
    writesBySourceMedian: median(rs.map((r) => r.bySource)),
    writesByTargetMedian: median(rs.map((r) => r.byTarget)),
    errors: all.map((r) => r.error).filter(Boolean),
  };
});

if (values.json) {
  process.stdout.write(`${JSON.stringify({ keys, rate, runs, summary, results })}\n`);
} else {
  const rows = [
    ['strategy', 'ok', 'lost', 'pause median', 'pause max', 'engine pause', 'p99', 'by source', 'by target'],
    ...summary.map((s) => [
      s.strategy,
      `${s.succeeded}/${s.runs}`,
      `${s.lostAcknowledged}/${s.acknowledged}`,
      `${fmt(s.appPauseMedianMs)} ms`,
      `${fmt(s.appPauseMaxMs)} ms`,
      s.enginePauseMedianMs === null ? '-' : `${fmt(s.enginePauseMedianMs)} ms`,
      `${fmt(s.p99MedianMs)} ms`,
      fmt(s.writesBySourceMedian),
      fmt(s.writesByTargetMedian),
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  process.stdout.write(
    `cutover under a ${rate} writes/s app, ${keys} keys, ${runs} run(s) per strategy ` +
      "(pause = the app's longest wait for one write; engine pause = measured on the source; lost = acknowledged " +
      'writes missing on the target; by source/target = writes acknowledged, median of runs)\n',
  );
  for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}\n`);
  for (const s of summary) for (const e of s.errors) process.stdout.write(`${s.strategy}: ${e}\n`);
}
const bad = summary.some((s) => s.lostAcknowledged > 0 || s.succeeded < s.runs);
process.exitCode = bad ? 1 : 0;
