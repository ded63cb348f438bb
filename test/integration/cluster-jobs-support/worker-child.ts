// A worker process for the cluster shard-job tests and bench: the real runtime, the real
// executors (buildExecutorRegistry) and the shard queue, with the migration's endpoints from the
// environment. Env: CONTROL_URL, SOURCE_URL, TARGET_URL, PREFIX, WORKER_ID, SHARD_CONCURRENCY,
// LOCK_MS, STALLED_MS, SHARD_SAVE_DELAY_MS (a pause after each shard checkpoint, so a test can
// kill a worker mid-shard). Every checkpoint a shard job loads is pushed, as the JSON the control
// Redis holds, to the list `<shard record key>:loads` (how a test tells a resume from a restart). Prints "ready" once taking jobs, "closed <clean>" after SIGTERM.
import { buildExecutorRegistry } from '../../../src/jobs/executors.js';
import { openRuntime, startWorkers } from '../../../src/jobs/runtime.js';
import { parseEndpointUrl } from '../../../src/redis/endpoint.js';
import { createLogger } from '../../../src/util/logger.js';
import { sleep } from '../../../src/util/sleep.js';

const env = process.env;
const num = (v: string | undefined, d: number) => (v ? Number(v) : d);

const rt = await openRuntime({
  control: parseEndpointUrl(env.CONTROL_URL!, 'control'),
  logger: createLogger({ level: env.LOG_LEVEL ?? 'warn' }),
  prefix: env.PREFIX ?? 'mb',
  timing: {
    lockDurationMs: num(env.LOCK_MS, 1000),
    stalledIntervalMs: num(env.STALLED_MS, 1000),
    sweepIntervalMs: 60_000,
    shutdownTimeoutMs: 5000,
    backoffMs: 100,
    progressIntervalMs: 100,
  },
});
const delay = num(env.SHARD_SAVE_DELAY_MS, 0);
const store = rt.shards.checkpointStore.bind(rt.shards);
rt.shards.checkpointStore = (key, epoch) => {
  const inner = store(key, epoch);
  return {
    load: async () => {
      const raw = await rt.redis.hget(rt.shards.key(key), 'cp');
      await rt.redis.rpush(`${rt.shards.key(key)}:loads`, raw ?? 'null');
      return inner.load();
    },
    save: async (state) => {
      await inner.save(state);
      if (delay > 0) await sleep(delay);
    },
  };
};
const source = parseEndpointUrl(env.SOURCE_URL!, 'src');
const target = parseEndpointUrl(env.TARGET_URL!, 'dst');
const pool = await startWorkers(rt, {
  registry: buildExecutorRegistry(undefined, rt),
  resolveEndpoints: () => ({ source, target }),
  workerId: env.WORKER_ID ?? `child-${process.pid}`,
  concurrency: 1,
  shardConcurrency: num(env.SHARD_CONCURRENCY, 2),
  sweeper: false,
});
process.stdout.write('ready\n');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, async () => {
    const { clean } = await pool.close();
    await rt.close();
    process.stdout.write(`closed ${clean}\n`);
    process.exit(0);
  });
}
