// The steps the key-copying strategies (dump-restore, MIGRATE) share around their own bulk copy:
// the live phase records the source's changes from before the scan and applies them (live_sync),
// verify waits for an empty backlog, the write pause drains it, the apps move while the source is
// paused (the record of their writes on the target starting first), writes resume, and the final
// check sets the apps' writes aside.
import { repointExecutor } from '../../hooks/executors.js';
import type { StepExecutor } from '../../runbook/step-executor.js';
import { recordingExecutor } from '../app-writes/index.js';
import {
  backlogVerifyExecutor,
  liveBulkCopyExecutor,
  liveSyncExecutor,
  pausedRepointExecutor,
  resumeWritesExecutor,
  writePauseExecutor,
} from '../live-phase/executors.js';
import type { StrategyDeps, StrategyExecutors } from '../strategy.js';
import { shardedVerify } from './sharded-steps.js';
import { finalCheckExecutor, verifyExecutor } from './verify.js';

const noShardFlow = () => undefined;

export function keyCopyExecutors(deps: StrategyDeps, bulkCopy: StepExecutor): StrategyExecutors {
  const live = deps.livePhase;
  return {
    bulk_copy: liveBulkCopyExecutor(bulkCopy, live),
    live_sync: liveSyncExecutor(live),
    // With a cluster on either side, one job per source shard.
    verify: backlogVerifyExecutor(shardedVerify(verifyExecutor, deps.shardFlow ?? noShardFlow), live),
    write_pause: writePauseExecutor(live),
    // Paused (and drained) first, then the recording starts, then the hook or a person moves the apps.
    repoint: pausedRepointExecutor(
      recordingExecutor(repointExecutor({ hooks: deps.hooks }), deps.appWrites),
      live,
    ),
    resume_writes: resumeWritesExecutor(live),
    post_verify: finalCheckExecutor(deps.appWrites),
  };
}
