// Replication runbook: the target becomes a replica of the source, catches up, is made writable,
// the apps move, nobody is left on the source, and the target is promoted (ARCHITECTURE.md
// "Cutover shape" 1-7).
import { isAvailable, type PlanContext } from '../../planner/context.js';
import {
  baseParams,
  numberSteps,
  ownClientsParams,
  postVerifyStep,
  preflightStep,
  repointStep,
  step,
  verifyStep,
} from '../../planner/steps/common.js';
import type { PlannedStep } from '../../planner/types.js';
import { formatDbs } from '../../planner/units.js';

export function replicationSteps(ctx: PlanContext): PlannedStep[] {
  const base = baseParams(ctx, 'replication');
  // Replication moves every db; the verify steps compare all of them.
  const allDbs = ctx.source.databases.filter((d) => d.keys > 0).map((d) => d.db);
  const auth = ctx.sourceHasPassword
    ? ` Sets masterauth${ctx.sourceUser ? ' and masteruser' : ''} on the target first.`
    : '';
  return numberSteps([
    preflightStep(ctx, 'replication'),
    step(
      'start_replication',
      'Start replication',
      `Run REPLICAOF on the target towards the source; the target discards everything it holds ` +
        `(${ctx.targetKeysTotal} keys now) and loads a full copy of the source.${auth}`,
      {
        ...base,
        discardsTargetKeys: ctx.targetKeysTotal,
        setMasterauth: ctx.sourceHasPassword,
        masteruser: ctx.sourceUser,
        replicaReadOnly: true,
      },
      { needsApproval: true, irreversible: true },
    ),
    step(
      'wait_sync',
      'Wait for the sync',
      'Wait until the replication link is up, the initial sync is loaded and the target offset equals the ' +
        "source's; progress shows link state, offsets and keys per db.",
      { ...base, requireLinkUp: true, maxLagBytes: 0 },
    ),
    verifyStep(
      ctx,
      'replication',
      `Compare ${formatDbs(allDbs)}: key counts (keys minus expiring keys), sampled values and TTLs, and replication lag 0.`,
      { dbs: allDbs, match: null, requireLagZero: true },
    ),
    step(
      'make_writable',
      'Make the target writable',
      'Set replica-read-only no on the target so the apps can write to it once repointed; it keeps ' +
        'following the source until promoted.',
      { ...base, config: { 'replica-read-only': 'no' } },
      { needsApproval: true },
    ),
    repointStep(
      ctx,
      'replication',
      'Move the apps to the target: the configured repoint hook runs, or a person confirms the apps moved.',
    ),
    step(
      'drain_check',
      'Check nobody is left on the source',
      isAvailable(ctx, 'source', 'CLIENT LIST')
        ? 'List clients still connected to the source (CLIENT LIST, minus migration-buddy and replicas); ' +
            'continue when none are left and replication lag is 0.'
        : 'CLIENT LIST is not available on the source: a person confirms no app still uses it.',
      {
        ...base,
        method: isAvailable(ctx, 'source', 'CLIENT LIST') ? 'client-list' : 'person-confirms',
        ignoreReplicas: true,
        ...ownClientsParams(),
        requireLagZero: true,
      },
    ),
    step(
      'promote',
      'Promote the target',
      'Run REPLICAOF NO ONE on the target: it stops following the source and becomes a standalone primary. ' +
        'Writes reaching the source after this are not carried over.',
      { ...base, command: 'REPLICAOF NO ONE', clearMasterauth: ctx.sourceHasPassword },
      { needsApproval: true, irreversible: true },
    ),
    postVerifyStep(ctx, 'replication'),
  ]);
}
