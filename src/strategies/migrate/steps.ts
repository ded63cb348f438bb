// MIGRATE runbook: the source server pushes keys to the target in batches (COPY, so the source
// keeps them). What changes meanwhile reaches the target as in dump-restore:
// - with keyspace notifications, the live phase records every change from before the first batch
//   and applies it (live_sync), so the copy is verified while writes flow and the write pause only
//   drains the backlog:
//   preflight -> bulk_copy -> live_sync -> verify -> write_pause -> repoint -> resume_writes -> post_verify
// - without them there is no record of what changed: under the write pause a final pass sends
//   every key again (REPLACE) and deletes on the target those gone from the source, and the copy
//   is verified then, while nothing can change it:
//   preflight -> bulk_copy -> write_pause -> final_copy -> verify -> repoint -> resume_writes -> post_verify
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
  selectionParams,
  step,
  verifyStep,
} from '../../planner/steps/common.js';
import { captureParams, copyParams, pauseParams, resumeParams } from '../../planner/steps/copy-params.js';
import type { PlannedStep } from '../../planner/types.js';
import { capitalize, formatDbs } from '../../planner/units.js';

/** Keys per MIGRATE call (KEYS form) and its timeout: small batches keep both servers responsive. */
export const MIGRATE_BATCH = { batchKeys: 100, timeoutMs: 10_000 } as const;

export function migrateSteps(ctx: PlanContext, path: CopyPath): PlannedStep[] {
  const base = baseParams(ctx, 'migrate');
  const capture = captureParams(path);
  // MIGRATE always sends whole DUMP payloads: no type-by-type mode, no chunks.
  const params: Record<string, unknown> = { ...copyParams(ctx, path), copyMode: 'dump' };
  delete params.chunkAboveBytes;
  const flush =
    ctx.options.onNonEmptyTarget === 'flush' ? `Empty ${formatDbs(ctx.targetDbs)} on the target, then ` : '';
  const pauseText =
    path.writePause === 'client-pause'
      ? 'Pause writes on the source (CLIENT PAUSE WRITE; reads go on). The pause is measured.'
      : 'CLIENT PAUSE is not available: a person stops the apps writing to the source (maintenance mode) and confirms.';
  const preflight = preflightStep(ctx, 'migrate', { migrateCanary: true });
  const bulk = step(
    'bulk_copy',
    'Copy the keys with MIGRATE',
    capitalize(
      `${flush}${capture ? 'start recording source changes, then ' : ''}SCAN ${formatDbs(ctx.dbs)} and have ` +
        `the source send each batch of ${MIGRATE_BATCH.batchKeys} keys to the target${intoDb(ctx)} (MIGRATE ... COPY` +
        `${params.replace ? ' REPLACE' : ''}); each batch blocks both servers while it moves.`,
    ),
    { ...base, method: 'migrate', ...params, copy: true, ...MIGRATE_BATCH, captureChanges: capture },
    { needsApproval: true, irreversible: ctx.options.onNonEmptyTarget !== 'refuse' },
  );
  const pause = step(
    'write_pause',
    'Pause source writes',
    pauseText,
    { ...base, ...pauseParams(ctx, path) },
    {
      needsApproval: true,
      irreversible: true,
    },
  );
  const repoint = repointStep(
    ctx,
    'migrate',
    'While source writes are paused, move the apps to the target: the configured repoint hook runs, or a ' +
      'person confirms the apps moved.',
  );
  const resume = step(
    'resume_writes',
    'Resume writes',
    'Kill source connections of apps that were not repointed, end the write pause, and restore any source ' +
      'setting the migration changed.',
    { ...base, ...resumeParams(ctx, path), ...ownClientsParams() },
  );
  const post = postVerifyStep(ctx, 'migrate');
  if (capture) {
    const live = step(
      'live_sync',
      'Follow changes',
      `Keep re-copying (DUMP/RESTORE from the worker) the keys the source reports as changed ` +
        `(notify-keyspace-events "${capture.notifyKeyspaceEvents}") until cutover; a reconnect of the subscriber ` +
        'triggers a re-scan. Done when the backlog is empty.',
      { ...base, ...selectionParams(ctx), ...capture, rescanOnReconnect: true },
    );
    const verify = verifyStep(
      ctx,
      'migrate',
      'Compare key counts per db (keys minus expiring keys), sampled values and TTLs, with the live-sync backlog empty.',
      { requireBacklogEmpty: true },
    );
    return numberSteps([preflight, bulk, live, verify, pause, repoint, resume, post]);
  }
  const final = step(
    'bulk_copy',
    'Final copy pass',
    'With writes paused, MIGRATE every key again (REPLACE) and delete on the target the keys gone from the ' +
      'source: without keyspace notifications there is no record of what changed.',
    {
      ...base,
      method: 'migrate',
      pass: 'final',
      scope: 'all-keys',
      ...selectionParams(ctx),
      copy: true,
      replace: true,
      deleteRemoved: true,
      ...MIGRATE_BATCH,
    },
    { slug: 'final_copy' },
  );
  const verify = verifyStep(
    ctx,
    'migrate',
    'With source writes paused, compare key counts per db (keys minus expiring keys), sampled values and TTLs.',
    { countTolerancePercent: 0 },
  );
  return numberSteps([preflight, bulk, pause, final, verify, repoint, resume, post]);
}
