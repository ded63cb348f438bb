// Pieces every strategy's runbook shares: numbering, the endpoints each step is bound to, and the
// preflight, verify, repoint and post-verify steps.
import type { PlanContext } from '../context.js';
import { OWN_CLIENT_NAME_PREFIX, VERIFY_THRESHOLDS } from '../defaults.js';
import type { PlannedStep, StepKind, StrategyName } from '../types.js';

/** A step before numbering; `slug` names it in the id when the kind alone is ambiguous. */
export type StepDraft = Omit<PlannedStep, 'id'> & { slug?: string };

/** Ids are "<position>-<slug or kind>", e.g. "3-verify", stable for a given plan. */
export function numberSteps(drafts: StepDraft[]): PlannedStep[] {
  return drafts.map(({ slug, ...step }, i) => ({ id: `${i + 1}-${slug ?? step.kind}`, ...step }));
}

/**
 * Numbers steps again after steps were added (hooks): ids keep their slug, and the number in an id
 * is always the step's position in the run, as plans, cards and the thread show it.
 */
export function renumberSteps(steps: readonly PlannedStep[]): PlannedStep[] {
  return steps.map((s, i) => ({ ...s, id: `${i + 1}-${s.id.replace(/^\d+-/, '')}` }));
}

/**
 * Parameters every step carries: the two servers (redacted URLs) so an approval binds to the
 * exact pair it was given for, and the strategy.
 */
export function baseParams(ctx: PlanContext, strategy: StrategyName): Record<string, unknown> {
  return {
    strategy,
    source: ctx.source.endpoint.redactedUrl,
    target: ctx.target.endpoint.redactedUrl,
  };
}

/** The data the copy covers, as the copy and verify steps see it. */
export function selectionParams(ctx: PlanContext): Record<string, unknown> {
  const remap = ctx.options.dbRemap;
  return { dbs: ctx.dbs, ...(remap ? { dbRemap: { ...remap } } : {}), match: ctx.options.match ?? null };
}

/** " (into db 5)" when the URLs copy a source db into another target db, else "". */
export function intoDb(ctx: PlanContext): string {
  const remap = ctx.options.dbRemap;
  return remap ? ` (into db ${remap.to})` : '';
}

export function step(
  kind: StepKind,
  title: string,
  description: string,
  params: Record<string, unknown>,
  flags: { needsApproval?: boolean; irreversible?: boolean; slug?: string } = {},
): StepDraft {
  const draft: StepDraft = {
    kind,
    title,
    description,
    needsApproval: flags.needsApproval ?? false,
    irreversible: flags.irreversible ?? false,
    params,
  };
  if (flags.slug) draft.slug = flags.slug;
  return draft;
}

export function preflightStep(
  ctx: PlanContext,
  strategy: StrategyName,
  extra: Record<string, unknown> = {},
): StepDraft {
  return step(
    'preflight',
    'Preflight checks',
    'Probe both servers again and check the plan still holds: versions, commands, target memory and ' +
      'eviction policy, and that the target is as empty as planned.',
    {
      ...baseParams(ctx, strategy),
      ...selectionParams(ctx),
      onNonEmptyTarget: ctx.options.onNonEmptyTarget,
      expectTargetKeys: ctx.targetBusyDbs.reduce((n, d) => n + d.keys, 0),
      ...extra,
    },
  );
}

export function verifyStep(
  ctx: PlanContext,
  strategy: StrategyName,
  description: string,
  extra: Record<string, unknown> = {},
): StepDraft {
  return step('verify', 'Verify the copy', description, {
    ...baseParams(ctx, strategy),
    ...selectionParams(ctx),
    compare: 'counts-and-sample',
    ...VERIFY_THRESHOLDS,
    ...extra,
  });
}

export function repointStep(ctx: PlanContext, strategy: StrategyName, description: string): StepDraft {
  return step('repoint', 'Repoint the apps', description, {
    ...baseParams(ctx, strategy),
    // The configured "repoint" hook runs; without one, a person confirms the apps moved.
    hook: 'repoint',
    fallback: 'person-confirms',
  });
}

export function postVerifyStep(ctx: PlanContext, strategy: StrategyName): StepDraft {
  return step(
    'post_verify',
    'Final check and summary',
    'Compare source and target in both directions one last time (counts, sampled values, TTLs) and post ' +
      'a summary of the migration.',
    {
      ...baseParams(ctx, strategy),
      ...selectionParams(ctx),
      compare: 'counts-and-sample',
      bidirectional: true,
      ...VERIFY_THRESHOLDS,
    },
  );
}

export function ownClientsParams(): Record<string, unknown> {
  return { ignoreClientNamePrefix: OWN_CLIENT_NAME_PREFIX };
}
