// The copy engine (universal DUMP/RESTORE strategy). Contract: .tmp/ENGINE_API.md.
export { fileCheckpointStore } from './checkpoint.js';
export { DEFAULT_BIG_KEY_THRESHOLD } from './context.js';
export { copyKeys } from './copy-keys.js';
export { CopyStoppedError } from './errors.js';
export { isFieldTtlRefusal } from './field-ttls.js';
export { functionsNotCopied } from './functions.js';
export { copyKeySet, KeySetCopier, type KeySetOptions } from './key-set.js';
export type {
  CheckpointStore,
  CopyCheckpoint,
  CopyCounters,
  CopyMode,
  CopyOptions,
  CopyProgress,
  CopyReport,
  KeyError,
  KeySetCounters,
  NonEmptyTargetPolicy,
} from './types.js';
