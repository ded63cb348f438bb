// The BullMQ side: queue, workers, sweeper, and the wiring a process starts from.
export { bullConnection, connectControl, controlEndpoint } from './connection.js';
export { buildExecutorRegistry, configEndpointResolver, type RegistryOptions } from './executors.js';
export { FOLLOWERS_QUEUE, FollowerPool, FollowerQueue } from './followers.js';
export { followerJobId, shardJobId, shardParentJobId, stepJobId } from './job-ids.js';
export { MAINTENANCE_QUEUE, STEPS_QUEUE, StepQueue } from './queue.js';
export {
  openRuntime,
  type Runtime,
  type RuntimeOptions,
  startWorkers,
  stepJobState,
  type WorkerOptions,
  type WorkerPool,
} from './runtime.js';
export { SHARDS_QUEUE, ShardQueue } from './shard-queue.js';
export { ShardStore } from './shard-store.js';
export { ShardPool } from './shard-worker.js';
export { DEFAULT_TIMING, type JobTiming, resolveTiming } from './timing.js';
