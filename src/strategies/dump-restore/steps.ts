// Dump-restore runbook (ARCHITECTURE.md: bulk copy + live sync, then a short write pause).
//
// Order, and why:
//   preflight -> bulk_copy -> live_sync -> verify -> write_pause -> repoint -> resume_writes -> post_verify
// - bulk_copy subscribes to the source's keyspace notifications *before* its SCAN starts, so a
//   key changed while the scan runs is recorded and re-copied; it is the first step that writes
//   the target (and flushes it, if chosen), so it carries the approval.
// - live_sync keeps applying changes until the write pause drains them; any reconnect of the
//   subscriber triggers a re-scan, since pub/sub drops events while disconnected.
// - write_pause pauses source writes (CLIENT PAUSE WRITE) and drains the backlog, so every
//   acknowledged write is on the target before the apps move; resume_writes kills the source
//   connections of apps that were not repointed and then unpauses.
// Without change capture (notifications off and not settable) the only safe order is to pause
// writes first and copy while paused: preflight -> write_pause -> bulk_copy -> verify -> repoint ->
// resume_writes -> post_verify.
import type { PlanContext } from '../../planner/context.js';
import type { CopyPath } from '../../planner/copy-path.js';
import {
  baseParams,
  intoDb,
  numberSteps,
  postVerifyStep,
  preflightStep,
  type StepDraft,
  step,
} from '../../planner/steps/common.js';
import { captureParams, copyParams, pauseParams } from '../../planner/steps/copy-params.js';
import {
  backlogVerifyStep,
  liveSyncStep,
  pausedRepointStep,
  pausedVerifyStep,
  resumeWritesStep,
} from '../../planner/steps/key-copy.js';
import type { PlannedStep } from '../../planner/types.js';
import { capitalize, formatBytes, formatDbs, formatDuration } from '../../planner/units.js';

export function dumpRestoreSteps(ctx: PlanContext, path: CopyPath): PlannedStep[] {
  const _base = baseParams(ctx, 'dump-restore');
  const capture = captureParams(path);
  const preflight = preflightStep(ctx, 'dump-restore', { restoreCanary: path.copyMode === 'dump' });
  const bulk = bulkCopyStep(ctx, path, capture);
  const pause = writePauseStep(ctx, path, capture !== null);
  const repoint = pausedRepointStep(ctx, 'dump-restore');
  const resume = resumeWritesStep(ctx, path, 'dump-restore');
  const post = postVerifyStep(ctx, 'dump-restore');
  if (capture === null) {
    return numberSteps([
      preflight,
      pause,
      bulk,
      pausedVerifyStep(ctx, 'dump-restore'),
      repoint,
      resume,
      post,
    ]);
  }
  const live = liveSyncStep(ctx, 'dump-restore', capture);
  return numberSteps([
    preflight,
    bulk,
    live,
    backlogVerifyStep(ctx, 'dump-restore'),
    pause,
    repoint,
    resume,
    post,
  ]);
}

function bulkCopyStep(ctx: PlanContext, path: CopyPath, capture: Record<string, unknown> | null): StepDraft {
  const params = copyParams(ctx, path);
  const how =
    path.copyMode === 'dump'
      ? 'DUMP on the source and RESTORE on the target'
      : 'native commands per type (no DUMP payloads)';
  const flush =
    ctx.options.onNonEmptyTarget === 'flush' ? `Empty ${formatDbs(ctx.targetDbs)} on the target, then ` : '';
  const start = capture ? 'start recording source changes, then ' : '';
  const text =
    `${flush}${start}SCAN ${formatDbs(ctx.dbs)}${ctx.options.match ? ` (MATCH ${ctx.options.match})` : ''} ` +
    `and write every key to the target${intoDb(ctx)} with ${how}, keeping TTLs; keys above ` +
    `${formatBytes(params.chunkAboveBytes as number)} go in chunks.` +
    (params.replace ? ' Existing keys are overwritten.' : '');
  return step(
    'bulk_copy',
    'Copy the keys',
    capitalize(text),
    { ...baseParams(ctx, 'dump-restore'), method: 'dump-restore', ...params, captureChanges: capture },
    { needsApproval: true, irreversible: ctx.options.onNonEmptyTarget !== 'refuse' },
  );
}

function writePauseStep(ctx: PlanContext, path: CopyPath, liveSync: boolean): StepDraft {
  const pause =
    path.writePause === 'client-pause'
      ? 'Pause writes on the source (CLIENT PAUSE WRITE; reads go on)'
      : 'CLIENT PAUSE is not available: a person stops the apps writing to the source (maintenance mode) and confirms';
  const then = liveSync
    ? ', then apply the remaining changes until the target has caught up. The pause is measured.'
    : `; writes stay paused through the copy (about ${formatDuration(ctx.copySeconds)}).`;
  return step(
    'write_pause',
    'Pause source writes',
    `${pause}${then}`,
    { ...baseParams(ctx, 'dump-restore'), ...pauseParams(ctx, path), drainChanges: liveSync },
    { needsApproval: true, irreversible: true },
  );
}
