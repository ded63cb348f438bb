// preflight: probe both servers again and check the plan still holds, so a plan approved an hour
// ago does not run against servers that changed since (target filled up, a command got blocked).
import type { Plan, PlanOptions } from '../../planner/types.js';
import { probeEndpoint } from '../../probe/index.js';
import type { ProbeResult } from '../../probe/types.js';
import { UnrecoverableStepError } from '../../runbook/errors.js';
import type { StepExecutor } from '../../runbook/step-executor.js';
import { canonicalJson } from '../../runbook/step-hash.js';

/** A step's id without its number: placed hooks renumber the steps after them. */
const unnumbered = (id: string) => id.replace(/^\d+-/, '');

/** Steps after preflight whose parameters differ in a fresh plan (by id, whatever its number). */
export function changedSteps(approved: Plan, fresh: Plan): string[] {
  const freshById = new Map(fresh.steps.map((s) => [unnumbered(s.id), s]));
  // Hooks are placed from the config after planning (src/hooks/place.ts), so a fresh plan has
  // none: compare only what the servers decide.
  return approved.steps
    .filter((s) => s.kind !== 'preflight' && s.kind !== 'hook')
    .filter((s) => {
      const now = freshById.get(unnumbered(s.id));
      return (
        !now ||
        now.kind !== s.kind ||
        canonicalJson(withoutHook(now.params)) !== canonicalJson(withoutHook(s.params))
      );
    })
    .map((s) => s.title);
}

function withoutHook(params: Record<string, unknown>): Record<string, unknown> {
  const { hook: _hook, hookKind: _hookKind, ...rest } = params;
  return rest;
}

export interface PreflightDeps {
  /** The planner (injected: it lists the strategies, whose executors include this one). */
  plan: (source: ProbeResult, target: ProbeResult, options: PlanOptions) => Plan;
  probe?: (endpoint: Parameters<typeof probeEndpoint>[0]) => Promise<ProbeResult>;
}

export function preflightExecutor(deps: PreflightDeps): StepExecutor {
  const probe = deps.probe ?? ((e) => probeEndpoint(e));
  return {
    async run(ctx) {
      const { source, target } = ctx.endpoints;
      ctx.reportProgress({ phase: 'probing', message: 'probing source and target' });
      const [s, t] = await Promise.all([probe(source), probe(target)]);
      const approved = ctx.migration.plan;
      const fresh = deps.plan(s, t, approved.options);
      if (fresh.blockers.length > 0) {
        throw new UnrecoverableStepError(
          `the plan no longer holds: ${fresh.blockers.map((b) => b.message).join('; ')}`,
        );
      }
      if (fresh.strategy !== approved.strategy) {
        throw new UnrecoverableStepError(
          `the plan no longer holds: the servers now call for ${fresh.strategy ?? 'no strategy'} instead of ${approved.strategy}; plan the migration again`,
        );
      }
      const changed = changedSteps(approved, fresh);
      if (changed.length > 0) {
        throw new UnrecoverableStepError(
          `the servers changed since the plan was made, and so would these steps: ${changed.join(', ')}; plan the migration again`,
        );
      }
      // Warnings people already saw with the plan are not news; new ones are.
      const known = new Set(approved.warnings.map((w) => w.code));
      const warnings = fresh.warnings.filter((w) => !known.has(w.code)).map((w) => w.message);
      return {
        summary:
          `source ${s.server.version} with ${s.totalKeys} keys, target ${t.server.version} with ${t.totalKeys} keys; the plan still holds` +
          (warnings.length ? ` (new warnings: ${warnings.join('; ')})` : ''),
        result: {
          sourceKeys: s.totalKeys,
          targetKeys: t.totalKeys,
          sourceVersion: s.server.version,
          targetVersion: t.server.version,
          warnings,
        },
        verdict: warnings.length ? 'warning' : 'ok',
      };
    },
  };
}
