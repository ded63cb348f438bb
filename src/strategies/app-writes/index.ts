// Writes on the target after the repoint: recorded from the repoint on (watch.ts), kept on the
// control Redis (record.ts), read by the final check to tell the apps' writes from differences
// (final-check.ts); make_writable and repoint start the recording (executors.ts).
export { recordingExecutor } from './executors.js';
export {
  type AppWrites,
  type AppWritesOutcome,
  type AppWritesProvider,
  describeAppWrites,
  FinalCheckAppWrites,
} from './final-check.js';
export { type AppWriteMeta, AppWriteRecord, MAX_RECORDED_KEYS, WATCH_SILENT_AFTER_MS } from './record.js';
export { AppWriteWatches, TargetWriteWatch } from './watch.js';
