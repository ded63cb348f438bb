// A worker process with the real executors and follower, as `migration-buddy worker` runs them.
// Env: CONTROL_URL, SOURCE_URL, TARGET_URL, PREFIX, WORKER_ID, LOCK_MS, STALLED_MS (DEFAULT_JOB_TIMING=1:
// the production lock and stall timings instead).
// Prints "ready" once taking jobs.
import { buildExecutorRegistry } from '../../../src/jobs/executors.js';
import { openRuntime, startWorkers } from '../../../src/jobs/runtime.js';
import { parseEndpointUrl } from '../../../src/redis/endpoint.js';
import { createLogger } from '../../../src/util/logger.js';
import { LIVE_PHASE_TIMING } from './timing.js';

const env = process.env;
const num = (v: string | undefined, d: number) => (v ? Number(v) : d);
const source = parseEndpointUrl(env.SOURCE_URL!, 'src');
const target = parseEndpointUrl(env.TARGET_URL!, 'dst');

const rt = await openRuntime({
  control: parseEndpointUrl(env.CONTROL_URL!, 'control'),
  logger: createLogger({ level: env.LOG_LEVEL ?? 'silent' }),
  prefix: env.PREFIX ?? 'mb',
  timing: {
    ...(env.DEFAULT_JOB_TIMING === '1'
      ? {}
      : { lockDurationMs: num(env.LOCK_MS, 1000), stalledIntervalMs: num(env.STALLED_MS, 1000) }),
    sweepIntervalMs: 60_000,
    backoffMs: 100,
    progressIntervalMs: 100,
  },
  livePhase: LIVE_PHASE_TIMING,
});
await startWorkers(rt, {
  registry: buildExecutorRegistry(undefined, rt),
  resolveEndpoints: () => ({ source, target }),
  workerId: env.WORKER_ID ?? `child-${process.pid}`,
  concurrency: 2,
  sweeper: false,
});
process.stdout.write('ready\n');
