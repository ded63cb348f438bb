// replication: the target becomes a replica of the source (REPLICAOF), catches up, is made
// writable, the apps move, nobody is left on the source, and the target is promoted. Native and
// complete, so the first choice wherever the target may replicate from the source.
import type { Strategy } from '../strategy.js';
import { assessReplication } from './assess.js';
import { replicationExecutors } from './executors.js';
import type { ReplicationOptions } from './options.js';
import { replicationSteps } from './steps.js';

export {
  cleanupAfterAbort,
  type DetachResult,
  describeDetach,
  detachAndRestore,
  stoppedByAbort,
} from './abort.js';
export { type ClientSummary, drainCheck, formatClients } from './drain.js';
export { replicationExecutors } from './executors.js';
export {
  describeLink,
  parseReplicaEntry,
  parseSourceState,
  parseTargetState,
  persistentKeys,
  type ReplicaEntry,
  replicatesFrom,
  type SourceState,
  type TargetState,
} from './info.js';
export { diagnoseNoContact, hasContact } from './link.js';
export {
  type BufferLimit,
  buildLoopReport,
  fullSyncsSince,
  type LoopObservation,
  type LoopReport,
  parseReplicaBufferLimit,
} from './loop.js';
export { type ReplicationOptions, resolveOptions } from './options.js';
export { promote } from './promote.js';
export {
  rememberedOriginals,
  type StartCheckpoint,
  startRecord,
  type WritableCheckpoint,
} from './records.js';
export { mergeOriginals, neededSettings, type Originals } from './settings.js';
export { startReplication } from './start.js';
export { compareCounts, verifyReplication } from './verify.js';
export { keysPerDb, waitForSync } from './wait-sync.js';
export { makeWritable } from './writable.js';

export const replication: Strategy<ReplicationOptions> = {
  name: 'replication',
  summary: 'the target replicates from the source, then is promoted once the apps have moved',
  copiesKeys: false,
  assess: assessReplication,
  steps: (ctx) => replicationSteps(ctx),
  executors: replicationExecutors,
};
