// placeHooks: puts the configured hooks into a planned runbook at their points, so a whole
// maintenance-window checklist (maintenance on, migrate, repoint, maintenance off) runs as one
// runbook with the same approvals and audit trail. Pure: the planned steps go in, new ones come out.
//
// Hook steps get ids "hook-<point>-<name>"; the planned steps keep theirs, so a step's id (and so an
// approval's target) does not depend on which hooks a worker's config has.
import { HOOK_POINTS, type HookConfig, type HookPoint, type HooksConfig } from '../config/schema.js';
import type { PlannedStep, StepKind } from '../planner/types.js';
import { describeHook } from './run.js';
import { hookKind } from './types.js';

const CUTOVER_START: readonly StepKind[] = ['make_writable', 'write_pause'];
const CUTOVER_END: readonly StepKind[] = ['promote', 'resume_writes'];

function lastIndexOfKinds(steps: readonly PlannedStep[], kinds: readonly StepKind[]): number {
  for (let i = steps.length - 1; i >= 0; i--) if (kinds.includes(steps[i]!.kind)) return i;
  return -1;
}

function firstIndexOfKinds(steps: readonly PlannedStep[], kinds: readonly StepKind[]): number {
  return steps.findIndex((s) => kinds.includes(s.kind));
}

/** Index in `steps` before which a hook at `point` goes. */
function insertionIndex(steps: readonly PlannedStep[], point: Exclude<HookPoint, 'repoint'>): number {
  const repoint = firstIndexOfKinds(steps, ['repoint']);
  switch (point) {
    case 'before_start': {
      const i = steps.findIndex((s) => s.kind !== 'preflight');
      return i === -1 ? steps.length : i;
    }
    case 'before_cutover': {
      const i = firstIndexOfKinds(steps, CUTOVER_START);
      return i !== -1 ? i : repoint !== -1 ? repoint : steps.length;
    }
    case 'after_repoint':
      return repoint !== -1 ? repoint + 1 : steps.length;
    case 'after_cutover': {
      const i = lastIndexOfKinds(steps, CUTOVER_END);
      return i !== -1 ? i + 1 : repoint !== -1 ? repoint + 1 : steps.length;
    }
    case 'end':
      return steps.length;
  }
}

function hookStep(
  name: string,
  def: HookConfig,
  point: HookPoint,
  base: Record<string, unknown>,
): PlannedStep {
  const where = point.replace('_', ' ');
  return {
    id: `hook-${point}-${name}`,
    kind: 'hook',
    title: `Run hook ${name}`,
    description: def.description ?? `Run the ${describeHook(name, def)} (${where}).`,
    needsApproval: def.gated,
    irreversible: false,
    params: { ...base, hook: name, point, hookKind: hookKind(def) },
  };
}

export function placeHooks(
  steps: readonly PlannedStep[],
  config: { hooks?: HooksConfig | undefined },
): PlannedStep[] {
  // Point order first, then config order: two points that land on the same spot keep their sense.
  const hooks = Object.entries(config.hooks ?? {})
    .filter(([, def]) => def.at !== undefined)
    .sort(([, a], [, b]) => HOOK_POINTS.indexOf(a.at!) - HOOK_POINTS.indexOf(b.at!));
  const out = steps.map((s) => ({ ...s, params: { ...s.params } }));
  if (hooks.length === 0) return out;
  // Every step carries the strategy and the redacted endpoints: hook steps bind to them too.
  const first = steps[0]?.params ?? {};
  const base: Record<string, unknown> = {};
  for (const field of ['strategy', 'source', 'target']) if (field in first) base[field] = first[field];

  const atRepoint = hooks.find(([, def]) => def.at === 'repoint');
  if (atRepoint) {
    const [name, def] = atRepoint;
    for (const step of out) {
      if (step.kind !== 'repoint') continue;
      step.params.hook = name;
      step.params.hookKind = hookKind(def);
      step.description = `Move the apps to the target: the ${describeHook(name, def)} runs.`;
      if (def.gated) step.needsApproval = true;
    }
  }
  // Insert from the back, each point's hooks in config order, so earlier indexes stay valid.
  const byIndex = new Map<number, PlannedStep[]>();
  for (const [name, def] of hooks) {
    if (def.at === 'repoint' || def.at === undefined) continue;
    const index = insertionIndex(steps, def.at);
    const list = byIndex.get(index) ?? [];
    list.push(hookStep(name, def, def.at, base));
    byIndex.set(index, list);
  }
  for (const index of [...byIndex.keys()].sort((a, b) => b - a)) {
    out.splice(index, 0, ...byIndex.get(index)!);
  }
  return out;
}
