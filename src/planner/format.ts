// A plan as plain text for people (CLI now, Slack later): no colours, no markup beyond dashes.
import type { Plan, PlannedStep } from './types.js';
import { formatBytes, formatCount, formatDuration } from './units.js';

function endpoint(e: Plan['source']): string {
  const where = e.name === e.redactedUrl ? e.name : `${e.name} (${e.redactedUrl})`;
  return `${where}, version ${e.version}`;
}

function strategyLine(plan: Plan): string {
  if (plan.strategy) {
    let how = '';
    if (plan.copyMode === 'by-type') how = ', copying type by type';
    else if (plan.copyMode === 'dump') how = ', copying DUMP payloads';
    const live =
      plan.liveSync === 'notifications' || plan.liveSync === 'enable-notifications'
        ? ', following changes live'
        : plan.liveSync === 'none'
          ? ', no live sync (writes pause during the copy)'
          : '';
    return `Strategy: ${plan.strategy}${how}${plan.strategy === 'dump-restore' ? live : ''}`;
  }
  if (plan.candidate) return `Strategy: none, blocked (${plan.candidate} once the blockers are resolved)`;
  return 'Strategy: none, no strategy is possible';
}

/** Extra lines from the caller (e.g. who may approve), which the planner does not know. */
export interface FormatPlanOptions {
  /** Who may approve a gated step, e.g. "by the buddy U1", shown under it. */
  gate?: (step: PlannedStep) => string | undefined;
  /** Printed after the steps. */
  footer?: string;
}

function stepLines(step: PlannedStep, index: number, gate?: FormatPlanOptions['gate']): string[] {
  const tags = [step.needsApproval ? 'needs approval' : '', step.irreversible ? 'irreversible' : ''].filter(
    Boolean,
  );
  const rule = step.needsApproval ? gate?.(step) : undefined;
  const head = `  ${index + 1}. ${step.title} [${step.id}]${tags.length ? ` (${tags.join(', ')})` : ''}`;
  return [head, `     ${step.description}`, ...(rule ? [`     Approval: ${rule}.`] : [])];
}

export function formatPlan(plan: Plan, options: FormatPlanOptions = {}): string {
  const { estimates } = plan;
  const lines = [
    `Source: ${endpoint(plan.source)}`,
    `Target: ${endpoint(plan.target)}`,
    strategyLine(plan),
    ...(plan.because ? [`Why: ${plan.because}`] : []),
    ...(plan.databases ? [`Databases: ${plan.databases}`] : []),
    `Estimate: ${formatCount(estimates.keys)} keys, ${formatBytes(estimates.bytes)}, about ` +
      `${formatDuration(estimates.copySeconds)} to copy at ${rateLine(plan)}`,
  ];
  for (const reason of plan.copyModeReasons) lines.push(`  type by type because ${reason}`);
  const alsoPossible = plan.assessments.filter(
    (a) => a.viable && a.strategy !== (plan.strategy ?? plan.candidate),
  );
  if (alsoPossible.length > 0) {
    lines.push(`Also possible: ${alsoPossible.map((a) => a.strategy).join(', ')} (choose with --strategy)`);
  }
  if (plan.blockers.length > 0) {
    lines.push('', 'Blockers (nothing runs until these are fixed):');
    for (const b of plan.blockers) lines.push(`  - ${b.message}`);
  }
  const out = plan.assessments.filter((a) => !a.viable);
  if (out.length > 0) {
    lines.push('', 'Ruled out:');
    for (const a of out) {
      lines.push(`  - ${a.strategy}:`);
      for (const r of a.reasons) lines.push(`      ${r}`);
    }
  }
  if (plan.warnings.length > 0) {
    lines.push('', 'Warnings:');
    for (const w of plan.warnings) lines.push(`  - ${w.message}`);
  }
  if (plan.steps.length > 0) {
    lines.push('', 'Steps:');
    plan.steps.forEach((s, i) => {
      lines.push(...stepLines(s, i, options.gate));
    });
  }
  if (options.footer) lines.push('', options.footer);
  return lines.join('\n');
}

/** "100,000 keys/s (the dump-restore default ...)"; a plan stored before rates were kept has none. */
function rateLine(plan: Plan): string {
  const rate = plan.estimates.keysPerSecond ?? plan.options.estimatedKeysPerSecond;
  if (rate === undefined) return 'an unknown rate';
  return `${formatCount(rate)} keys/s${plan.estimates.rateFrom ? ` (${plan.estimates.rateFrom})` : ''}`;
}
