// Replication strategy: the target becomes a replica of the source, catches up, is made writable,
// the apps move, nobody is left on the source, and the target is promoted.
export {
  cleanupAfterAbort,
  type DetachResult,
  describeDetach,
  detachAndRestore,
  stoppedByAbort,
} from './abort.js';
export { type ClientSummary, drainCheck, formatClients } from './drain.js';
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
