// dump-restore: a client SCANs the source and copies each key with DUMP + PTTL + RESTORE (type by
// type where payloads cannot cross), follows the source's changes through keyspace notifications,
// and cuts over under a short write pause. It needs nothing but a client's commands, so it works
// where providers forbid everything else.

import { everyStrategysExecutors } from '../shared/executors.js';
import { keyCopyExecutors } from '../shared/key-copy.js';
import { shardedBulkCopy } from '../shared/sharded-steps.js';
import type { Strategy } from '../strategy.js';
import { assessDumpRestore } from './assess.js';
import { bulkCopyExecutor } from './bulk-copy.js';
import { dumpRestoreSteps } from './steps.js';

export { bulkCopyExecutor, copyOptionsFromParams } from './bulk-copy.js';

export const dumpRestore: Strategy = {
  name: 'dump-restore',
  summary:
    'a client copies every key (DUMP/RESTORE), follows changes live, and cuts over under a short write pause',
  copiesKeys: true,
  assess: assessDumpRestore,
  steps: dumpRestoreSteps,
  executors: (deps) => ({
    ...everyStrategysExecutors(deps),
    // With a cluster on either side, the bulk copy runs one job per source shard.
    ...keyCopyExecutors(deps, shardedBulkCopy(bulkCopyExecutor, deps.shardFlow ?? (() => undefined))),
  }),
};
