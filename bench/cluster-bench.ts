// `npm run bench -- --cluster`: a cluster's bulk copy as one BullMQ job per source shard, with 1
// and with 3 worker processes.
//
//   npx tsx bench/copy-bench.ts --cluster [--keys 300000] [--workers 1,3] [--shard-concurrency 1] [--json]
//
// Starts a control Redis and two 3-primary clusters (source, target) on loopback, fills the
// source (strings, hashes, 10% with TTLs; each key written on the primary owning its slot), then
// for each worker count: empties the target, spawns that many `worker` processes (the real
// runtime and executors: test/integration/cluster-jobs-support/worker-child.ts), runs a migration
// whose bulk_copy step splits into the shard jobs, and prints keys/s (from the step's start to its
// end), CPU seconds per key of every process (each worker, each source and target node, from
// /proc/<pid>/stat utime+stime+cutime+cstime, taken before the start and after the end), and which
// worker ran which shard. The 2 cores of this machine are shared by the 6 servers and the
// workers, so the speed-up of 3 workers over 1 is bounded by them, not by the queue.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { keySlot } from '../src/engine/cluster/slot.js';
import { openRuntime } from '../src/jobs/runtime.js';
import { parseEndpointUrl } from '../src/redis/endpoint.js';
import { createLogger } from '../src/util/logger.js';
import { evenSlotRanges, type RedisCluster, startCluster } from '../test/harness/redis-cluster.js';
import { startRedis } from '../test/harness/redis-server.js';
import { spawnWorker, type WorkerChild } from '../test/integration/jobs-support/children.js';
import { plannedStep, SETTINGS, testPlan } from '../test/unit/runbook/fixtures.js';

const CHILD = fileURLToPath(
  new URL('../test/integration/cluster-jobs-support/worker-child.ts', import.meta.url),
);
const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

/** CPU seconds of a live process and its waited-for children, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICKS_PER_SECOND;
}

async function fill(cluster: RedisCluster, keys: number): Promise<void> {
  const ranges = evenSlotRanges(cluster.primaries.length);
  const clients = await Promise.all(cluster.primaries.map((p) => p.server.client()));
  const value = 'v'.repeat(100);
  for (let start = 0; start < keys; start += 10_000) {
    const pipes = clients.map((c) => c.pipeline());
    for (let i = start; i < Math.min(keys, start + 10_000); i++) {
      const key = `bench:${i}`;
      const slot = keySlot(key);
      const pipe = pipes[ranges.findIndex(([a, b]) => slot >= a && slot <= b)]!;
      if (i % 5 === 0) pipe.hset(key, 'a', value, 'b', String(i), 'c', 'x'.repeat(20));
      else pipe.set(key, value);
      if (i % 10 === 0) pipe.pexpire(key, 3_600_000);
    }
    await Promise.all(pipes.map((p) => p.exec()));
  }
}

interface ProcessCpu {
  process: string;
  pid: number;
  cpuSeconds: number;
  cpuMicrosPerKey: number;
}

interface RunFigures {
  workers: number;
  shardConcurrency: number;
  keys: number;
  seconds: number;
  keysPerSecond: number;
  /** 1-minute load average at the end: on a shared machine it bounds every figure. */
  load: number;
  processes: ProcessCpu[];
  spread: { shard: string; node: string; keys: number; worker: string; seconds: number }[];
}

export async function runClusterBench(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      keys: { type: 'string', default: '300000' },
      workers: { type: 'string', default: '1,3' },
      'shard-concurrency': { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
    },
  });
  const keys = Number(values.keys);
  const counts = values.workers.split(',').map(Number);
  const shardConcurrency = Number(values['shard-concurrency']);
  const say = (line: string) => (values.json ? process.stderr : process.stdout).write(`${line}\n`);

  const [control, source, target] = await Promise.all([
    startRedis(),
    startCluster({ primaries: 3 }),
    startCluster({ primaries: 3 }),
  ]);
  const children: WorkerChild[] = [];
  const runs: RunFigures[] = [];
  try {
    const t0 = Date.now();
    await fill(source, keys);
    say(`source: 3 primaries, ${keys} keys loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const nodes = [
      ...source.primaries.map((p, i) => ({
        process: `source node ${i + 1} (:${p.server.port})`,
        pid: p.server.pid,
      })),
      ...target.primaries.map((p, i) => ({
        process: `target node ${i + 1} (:${p.server.port})`,
        pid: p.server.pid,
      })),
    ];
    for (const [n, count] of counts.entries()) {
      for (const p of target.primaries) await (await p.server.client()).flushall();
      const prefix = `bench${n}`;
      const rt = await openRuntime({
        control: parseEndpointUrl(control.url, 'control'),
        logger: createLogger({ level: 'silent' }),
        prefix,
        settings: SETTINGS,
      });
      try {
        const plan = testPlan([plannedStep(1, 'bulk_copy', false, { onNonEmptyTarget: 'refuse' })]);
        const m = await rt.service.create({ source: 'src', target: 'dst', plan, requester: 'UREQ' });
        const workers = Array.from({ length: count }, (_, i) =>
          spawnWorker(
            {
              CONTROL_URL: control.url,
              SOURCE_URL: source.url,
              TARGET_URL: target.url,
              PREFIX: prefix,
              WORKER_ID: `worker-${i + 1}`,
              SHARD_CONCURRENCY: String(shardConcurrency),
              LOCK_MS: '5000',
              STALLED_MS: '2000',
            },
            CHILD,
          ),
        );
        children.push(...workers);
        await Promise.all(workers.map((w) => w.ready));
        const procs = [...workers.map((w, i) => ({ process: `worker-${i + 1}`, pid: w.pid })), ...nodes];
        const before = procs.map((p) => cpuSeconds(p.pid));
        await rt.service.start(m.id, 'UREQ');
        let done = await rt.service.get(m.id);
        while (done && !['succeeded', 'failed', 'aborted'].includes(done.status)) {
          await new Promise((r) => setTimeout(r, 50));
          done = await rt.service.get(m.id);
        }
        const after = procs.map((p) => cpuSeconds(p.pid));
        const step = done!.steps[0]!;
        if (done!.status !== 'succeeded') throw new Error(`the copy ended ${done!.status}: ${step.error}`);
        const seconds = (Date.parse(step.finishedAt!) - Date.parse(step.startedAt!)) / 1000;
        const result = step.result as {
          keysCopied: number;
          shards: { shard: string; node: string; keys: number; worker: string; durationMs: number }[];
        };
        const figures: RunFigures = {
          workers: count,
          shardConcurrency,
          keys: result.keysCopied,
          seconds,
          keysPerSecond: Math.round(result.keysCopied / seconds),
          load: loadavg()[0]!,
          processes: procs.map((p, i) => {
            const cpu = after[i]! - before[i]!;
            return { ...p, cpuSeconds: cpu, cpuMicrosPerKey: (cpu / result.keysCopied) * 1e6 };
          }),
          spread: result.shards.map((s) => ({
            shard: s.shard.slice(0, 8),
            node: s.node,
            keys: s.keys,
            worker: s.worker,
            seconds: s.durationMs / 1000,
          })),
        };
        runs.push(figures);
        say('');
        say(
          `${count} worker(s), ${shardConcurrency} shard job(s) each: ${figures.keys} keys in ${seconds.toFixed(2)} s = ${figures.keysPerSecond} keys/s (load average ${figures.load.toFixed(1)})`,
        );
        for (const p of figures.processes) {
          say(
            `  ${p.process.padEnd(26)} ${p.cpuSeconds.toFixed(2).padStart(6)} s CPU  ${p.cpuMicrosPerKey.toFixed(2).padStart(7)} µs/key`,
          );
        }
        for (const s of figures.spread) {
          say(`  shard ${s.shard} (${s.node}): ${s.keys} keys on ${s.worker} in ${s.seconds.toFixed(2)} s`);
        }
        for (const w of workers) w.child.kill('SIGTERM');
        await Promise.all(workers.map((w) => w.exited));
      } finally {
        await rt.close();
      }
    }
    if (runs.length >= 2) {
      const base = runs[0]!;
      say('');
      for (const r of runs.slice(1)) {
        say(
          `${r.workers} workers vs ${base.workers}: ${(r.keysPerSecond / base.keysPerSecond).toFixed(2)}x the keys/s (same run, same servers)`,
        );
      }
    }
    if (values.json) process.stdout.write(`${JSON.stringify({ keys, runs }, null, 2)}\n`);
    return 0;
  } finally {
    for (const c of children) c.kill();
    await Promise.all(children.map((c) => c.exited));
    await Promise.all([control.stop(), source.stop(), target.stop()]);
  }
}
