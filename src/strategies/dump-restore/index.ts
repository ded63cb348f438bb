// Executors of the dump-restore strategy's own steps (verification serves every strategy).
// live_sync, write_pause and resume_writes, and the follower's part of bulk_copy, verify and
// repoint, come from ./live-phase (registerLivePhaseExecutors, registered last by src/jobs).
import { ExecutorRegistry } from '../../runbook/step-executor.js';
import type { AppWritesProvider } from '../app-writes/index.js';
import { preflightExecutor } from '../shared/preflight.js';
import { personConfirmsRepoint } from '../shared/repoint.js';
import { finalCheckExecutor, verifyExecutor } from '../shared/verify.js';
import { bulkCopyExecutor } from './bulk-copy.js';

export { changedSteps, preflightExecutor } from '../shared/preflight.js';
export { personConfirmsRepoint } from '../shared/repoint.js';
export {
  countMismatches,
  finalCheckExecutor,
  judge,
  verifyExecutor,
  verifyOptionsFromParams,
} from '../shared/verify.js';
export { bulkCopyExecutor, copyOptionsFromParams, stepCheckpointStore } from './bulk-copy.js';

export function registerDumpRestoreExecutors(
  registry = new ExecutorRegistry(),
  options: { appWrites?: AppWritesProvider } = {},
): ExecutorRegistry {
  return registry
    .register('preflight', preflightExecutor())
    .register('bulk_copy', bulkCopyExecutor)
    .register('repoint', personConfirmsRepoint)
    .register('verify', verifyExecutor)
    .register('post_verify', finalCheckExecutor(options.appWrites));
}
