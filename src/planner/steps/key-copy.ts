// Steps the key copies (dump-restore and MIGRATE) share around their own bulk copy: following the
// source's changes, verifying with the backlog empty or under the pause, moving the apps while the
// source is paused, and resuming its writes.
import type { PlanContext } from '../context.js';
import type { CopyPath } from '../copy-path.js';
import type { StrategyName } from '../types.js';
import {
  baseParams,
  ownClientsParams,
  repointStep,
  type StepDraft,
  selectionParams,
  step,
  verifyStep,
} from './common.js';
import { resumeParams } from './copy-params.js';

export function liveSyncStep(
  ctx: PlanContext,
  strategy: StrategyName,
  capture: Record<string, unknown> & { notifyKeyspaceEvents?: unknown },
): StepDraft {
  return step(
    'live_sync',
    'Follow changes',
    `Keep re-copying keys the source reports as changed (notify-keyspace-events "${String(capture.notifyKeyspaceEvents)}") ` +
      'until cutover; a reconnect of the subscriber triggers a re-scan. Done when the backlog is empty.',
    { ...baseParams(ctx, strategy), ...selectionParams(ctx), ...capture, rescanOnReconnect: true },
  );
}

/** Verify while writes flow: the live sync's backlog must be empty first. */
export function backlogVerifyStep(ctx: PlanContext, strategy: StrategyName): StepDraft {
  return verifyStep(
    ctx,
    strategy,
    'Compare key counts per db (keys minus expiring keys), sampled values and TTLs, with the live-sync backlog empty.',
    { requireBacklogEmpty: true },
  );
}

/** Verify under the write pause (no change capture): nothing can change the data then. */
export function pausedVerifyStep(ctx: PlanContext, strategy: StrategyName): StepDraft {
  return verifyStep(
    ctx,
    strategy,
    'With source writes paused, compare key counts per db (keys minus expiring keys), sampled values and TTLs.',
    { countTolerancePercent: 0 },
  );
}

export function pausedRepointStep(ctx: PlanContext, strategy: StrategyName): StepDraft {
  return repointStep(
    ctx,
    strategy,
    'While source writes are paused, move the apps to the target: the configured repoint hook runs, or a ' +
      'person confirms the apps moved.',
  );
}

export function resumeWritesStep(ctx: PlanContext, path: CopyPath, strategy: StrategyName): StepDraft {
  return step(
    'resume_writes',
    'Resume writes',
    'Kill source connections of apps that were not repointed (so they reconnect to the new address), ' +
      'end the write pause, and restore any source setting the migration changed.',
    { ...baseParams(ctx, strategy), ...resumeParams(ctx, path), ...ownClientsParams() },
  );
}
