// MIGRATE runbook: the source server pushes keys to the target in batches (COPY, so the source
// keeps them), then during a write pause a final pass brings over what changed since.
//   preflight -> bulk_copy -> verify -> write_pause -> final_copy -> repoint -> resume_writes -> post_verify
// With keyspace notifications the final pass re-sends only keys changed since the bulk pass
// started (and deletes removed ones); without them it sends every key again with REPLACE.
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
  return numberSteps([
    preflightStep(ctx, 'migrate', { migrateCanary: true }),
    step(
      'bulk_copy',
      'Copy the keys with MIGRATE',
      capitalize(
        `${flush}${capture ? 'start recording source changes, then ' : ''}SCAN ${formatDbs(ctx.dbs)} and have ` +
          `the source send each batch of ${MIGRATE_BATCH.batchKeys} keys to the target${intoDb(ctx)} (MIGRATE ... COPY` +
          `${params.replace ? ' REPLACE' : ''}); each batch blocks both servers while it moves.`,
      ),
      { ...base, method: 'migrate', ...params, copy: true, ...MIGRATE_BATCH, captureChanges: capture },
      { needsApproval: true, irreversible: ctx.options.onNonEmptyTarget !== 'refuse' },
    ),
    verifyStep(
      ctx,
      'migrate',
      'Compare key counts per db (keys minus expiring keys), sampled values and TTLs while writes still flow.',
    ),
    step(
      'write_pause',
      'Pause source writes',
      pauseText,
      { ...base, ...pauseParams(ctx, path) },
      {
        needsApproval: true,
        irreversible: true,
      },
    ),
    step(
      'bulk_copy',
      'Final copy pass',
      capture
        ? 'With writes paused, MIGRATE the keys changed since the copy started (REPLACE) and delete on the ' +
            'target those deleted on the source.'
        : 'With writes paused, MIGRATE every key again (REPLACE): without keyspace notifications there is no ' +
            'record of what changed.',
      {
        ...base,
        method: 'migrate',
        pass: 'final',
        scope: capture ? 'changed-keys' : 'all-keys',
        ...selectionParams(ctx),
        copy: true,
        replace: true,
        deleteRemoved: capture !== null,
        ...MIGRATE_BATCH,
      },
      { slug: 'final_copy' },
    ),
    repointStep(
      ctx,
      'migrate',
      'While source writes are paused, move the apps to the target: the configured repoint hook runs, or a ' +
        'person confirms the apps moved.',
    ),
    step(
      'resume_writes',
      'Resume writes',
      'Kill source connections of apps that were not repointed, end the write pause, and restore any source ' +
        'setting the migration changed.',
      { ...base, ...resumeParams(ctx, path), ...ownClientsParams() },
    ),
    postVerifyStep(ctx, 'migrate'),
  ]);
}
