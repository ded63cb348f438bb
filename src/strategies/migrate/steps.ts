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
  postVerifyStep,
  preflightStep,
  selectionParams,
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
  const repoint = pausedRepointStep(ctx, 'migrate');
  const resume = resumeWritesStep(ctx, path, 'migrate');
  const post = postVerifyStep(ctx, 'migrate');
  if (capture) {
    const live = liveSyncStep(ctx, 'migrate', capture);
    const verify = backlogVerifyStep(ctx, 'migrate');
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
  const verify = pausedVerifyStep(ctx, 'migrate');
  return numberSteps([preflight, bulk, pause, final, verify, repoint, resume, post]);
}
