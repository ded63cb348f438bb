// psync runbook: the tool is a replica of the source (PSYNC), the target takes what it receives.
//
// Order, and why:
//   preflight -> bulk_copy -> live_sync -> verify -> write_pause -> repoint -> resume_writes -> post_verify
// - bulk_copy starts the follower's replica: PSYNC on the source, the RDB (from the source's forked
//   child) restored on the target key by key. It is the first write to the target (and the flush,
//   if chosen), so it carries the approval.
// - live_sync: the follower applies the replication stream, command by command and in order, from
//   the RDB's offset on; a dropped link continues with PSYNC <replid> <offset>.
// - verify runs while the stream goes on, once the lag is small.
// - write_pause pauses source writes (CLIENT PAUSE WRITE), reads the source's master_repl_offset
//   under the pause and waits until the applied offset reaches it: every acknowledged write is then
//   on the target. resume_writes kills stale source connections, stops the replica and unpauses.
import type { PlanContext } from '../../planner/context.js';
import type { CopyPath } from '../../planner/copy-path.js';
import { functionsPolicy } from '../../planner/functions.js';
import {
  baseParams,
  intoDb,
  numberSteps,
  postVerifyStep,
  preflightStep,
  type StepDraft,
  selectionParams,
  step,
  verifyStep,
} from '../../planner/steps/common.js';
import { pauseParams } from '../../planner/steps/copy-params.js';
import { pausedRepointStep, resumeWritesStep } from '../../planner/steps/key-copy.js';
import type { PlannedStep } from '../../planner/types.js';
import { capitalize, formatDbs } from '../../planner/units.js';

export function psyncSteps(ctx: PlanContext, path: CopyPath): PlannedStep[] {
  return numberSteps([
    preflightStep(ctx, 'psync', { restoreCanary: true }),
    fullSyncStep(ctx),
    streamStep(ctx),
    verifyStep(
      ctx,
      'psync',
      'While the replication stream is applied (lag small), compare key counts per db (keys minus expiring ' +
        'keys), sampled values and TTLs.',
      { requireBacklogEmpty: true },
    ),
    writePauseStep(ctx, path),
    pausedRepointStep(ctx, 'psync'),
    resumeWritesStep(ctx, path, 'psync'),
    postVerifyStep(ctx, 'psync'),
  ]);
}

function fullSyncStep(ctx: PlanContext): StepDraft {
  const policy = ctx.options.onNonEmptyTarget;
  const flush = policy === 'flush' ? `Empty ${formatDbs(ctx.targetDbs)} on the target, then ` : '';
  const text =
    `${flush}connect to the source as a replica (PSYNC): the source's forked child sends its RDB, and every ` +
    `key of ${formatDbs(ctx.dbs)} is restored on the target${intoDb(ctx)} with its TTL, with the function ` +
    'libraries.' +
    (policy === 'replace' ? ' Existing keys are overwritten.' : '');
  return step(
    'bulk_copy',
    'Full sync from the source',
    capitalize(text),
    {
      ...baseParams(ctx, 'psync'),
      method: 'psync',
      ...selectionParams(ctx),
      onNonEmptyTarget: policy,
      flushTarget: policy === 'flush',
      replace: policy !== 'refuse',
      functions: functionsPolicy(ctx),
    },
    { needsApproval: true, irreversible: policy !== 'refuse' },
  );
}

function streamStep(ctx: PlanContext): StepDraft {
  return step(
    'live_sync',
    'Apply the replication stream',
    'Apply every write the source propagates, in order (expirations, evictions and FLUSHDB included), ' +
      'until cutover; a dropped link continues where it was (PSYNC <replid> <offset>). Done when the lag is small.',
    { ...baseParams(ctx, 'psync'), ...selectionParams(ctx), feed: 'psync', setConfig: false },
  );
}

function writePauseStep(ctx: PlanContext, path: CopyPath): StepDraft {
  const pause =
    path.writePause === 'client-pause'
      ? 'Pause writes on the source (CLIENT PAUSE WRITE; reads go on)'
      : 'CLIENT PAUSE is not available: a person stops the apps writing to the source (maintenance mode) and confirms';
  return step(
    'write_pause',
    'Pause source writes',
    `${pause}, read the source's replication offset and wait until the target has applied the stream up to ` +
      'it. The pause is measured.',
    {
      ...baseParams(ctx, 'psync'),
      ...pauseParams(ctx, path),
      drainChanges: true,
      drainTo: 'master_repl_offset',
    },
    { needsApproval: true, irreversible: true },
  );
}
