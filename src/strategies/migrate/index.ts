// MIGRATE: the source server pushes the keys to the target itself (MIGRATE ... COPY, batched,
// resumable), and a final pass under the write pause sends what changed. It needs the source to
// reach the target and the target to accept the source's DUMP payloads.
import { everyStrategysExecutors } from '../shared/executors.js';
import { keyCopyExecutors } from '../shared/key-copy.js';
import { shardedBulkCopy } from '../shared/sharded-steps.js';
import type { Strategy } from '../strategy.js';
import { assessMigrate } from './assess.js';
import { type MigrateExecutorOptions, migrateBulkCopyExecutor } from './executors.js';
import { migrateSteps } from './steps.js';

export { classifyMigrateReply, migrateArgs } from './command.js';
export {
  type MigrateExecutorOptions,
  migrateBulkCopyExecutor,
  migrateOptionsFromParams,
  sourceWritesPaused,
} from './executors.js';
export {
  type MigrateCheckpoint,
  MigrateError,
  type MigrateOptions,
  type MigrateReport,
  migrateKeys,
} from './migrate-keys.js';

export const migrate: Strategy<MigrateExecutorOptions> = {
  name: 'migrate',
  summary:
    'the source server sends the keys to the target (MIGRATE COPY), then a final pass under a write pause',
  copiesKeys: true,
  assess: assessMigrate,
  steps: migrateSteps,
  executors: (deps, options) => ({
    ...everyStrategysExecutors(deps),
    // With a cluster on either side, each source primary sends its own shard: one job per shard.
    ...keyCopyExecutors(
      deps,
      shardedBulkCopy(migrateBulkCopyExecutor(options), deps.shardFlow ?? (() => undefined), 'migrate'),
    ),
  }),
};
