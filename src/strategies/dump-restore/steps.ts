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
  ownClientsParams,
  postVerifyStep,
  preflightStep,
  repointStep,
  type StepDraft,
  selectionParams,
  step,
  verifyStep,
} from '../../planner/steps/common.js';
import { captureParams, copyParams, pauseParams, resumeParams } from '../../planner/steps/copy-params.js';
import type { PlannedStep } from '../../planner/types.js';
import { capitalize, formatBytes, formatDbs, formatDuration } from '../../planner/units.js';

export function dumpRestoreSteps(ctx: PlanContext, path: CopyPath): PlannedStep[] {
  const base = baseParams(ctx, 'dump-restore');
  const capture = captureParams(path);
  const preflight = preflightStep(ctx, 'dump-restore', { restoreCanary: path.copyMode === 'dump' });
  const bulk = bulkCopyStep(ctx, path, capture);
  const pause = writePauseStep(ctx, path, capture !== null);
  const repoint = repointStep(
    ctx,
    'dump-restore',
    'While source writes are paused, move the apps to the target: the configured repoint hook runs, or a ' +
      'person confirms the apps moved.',
  );
  const resume = step(
    'resume_writes',
    'Resume writes',
    'Kill source connections of apps that were not repointed (so they reconnect to the new address), ' +
      'end the write pause, and restore any source setting the migration changed.',
    { ...base, ...resumeParams(ctx, path), ...ownClientsParams() },
  );
  const post = postVerifyStep(ctx, 'dump-restore');
  if (capture === null) {
    const verify = verifyStep(
      ctx,
      'dump-restore',
      'With source writes paused, compare key counts per db (keys minus expiring keys), sampled values and TTLs.',
      { countTolerancePercent: 0 },
    );
    return numberSteps([preflight, pause, bulk, verify, repoint, resume, post]);
  }
  const live = step(
    'live_sync',
    'Follow changes',
    `Keep re-copying keys the source reports as changed (notify-keyspace-events "${capture.notifyKeyspaceEvents}") ` +
      'until cutover; a reconnect of the subscriber triggers a re-scan. Done when the backlog is empty.',
    { ...base, ...selectionParams(ctx), ...capture, rescanOnReconnect: true },
  );
  const verify = verifyStep(
    ctx,
    'dump-restore',
    'Compare key counts per db (keys minus expiring keys), sampled values and TTLs, with the live-sync backlog empty.',
    { requireBacklogEmpty: true },
  );
  return numberSteps([preflight, bulk, live, verify, pause, repoint, resume, post]);
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
