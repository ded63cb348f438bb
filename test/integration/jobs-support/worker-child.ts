// A worker process for crash tests: the real runtime and workers with the test executors.
// Env: CONTROL_URL, TARGET_URL, PREFIX, WORKER_ID, LOCK_MS, STALLED_MS, SWEEP_MS, SHUTDOWN_MS.
// Prints "ready" once taking jobs and "closed <clean> <ms>" after a graceful stop.
import { openRuntime, startWorkers } from '../../../src/jobs/runtime.js';
import { parseEndpointUrl } from '../../../src/redis/endpoint.js';
import { createLogger } from '../../../src/util/logger.js';
import { closeTargetClients, endpointsFrom, testRegistry } from './executors.js';

const env = process.env;
const num = (v: string | undefined, d: number) => (v ? Number(v) : d);

const rt = await openRuntime({
  control: parseEndpointUrl(env.CONTROL_URL!, 'control'),
  logger: createLogger({ level: env.LOG_LEVEL ?? 'warn' }),
  prefix: env.PREFIX ?? 'mb',
  timing: {
    lockDurationMs: num(env.LOCK_MS, 1000),
    stalledIntervalMs: num(env.STALLED_MS, 1000),
    sweepIntervalMs: num(env.SWEEP_MS, 60_000),
    shutdownTimeoutMs: num(env.SHUTDOWN_MS, 5000),
    backoffMs: 100,
    progressIntervalMs: 100,
  },
});
const pool = await startWorkers(rt, {
  registry: testRegistry(),
  resolveEndpoints: endpointsFrom(env.TARGET_URL!),
  workerId: env.WORKER_ID ?? `child-${process.pid}`,
  concurrency: 1,
  sweeper: env.SWEEP_MS !== undefined,
});
process.stdout.write('ready\n');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, async () => {
    const t0 = Date.now();
    const { clean } = await pool.close();
    await rt.close();
    closeTargetClients();
    process.stdout.write(`closed ${clean} ${Date.now() - t0}\n`);
    process.exit(0);
  });
}
