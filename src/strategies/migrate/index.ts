// MIGRATE strategy engine: the source server pushes keys to the target (COPY, batched, resumable).
export { classifyMigrateReply, migrateArgs } from './command.js';
export {
  type MigrateCheckpoint,
  MigrateError,
  type MigrateOptions,
  type MigrateReport,
  migrateKeys,
} from './migrate-keys.js';
