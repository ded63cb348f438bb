// Runbook data -> the view models the block builders take. Pure functions: everything shown about
// an endpoint is its name, version and redacted URL.
import type { Plan } from '../planner/types.js';
import type { ApprovalPolicy } from '../runbook/approval-policy.js';
import { gateRule, policySummary } from '../runbook/describe.js';
import type { Migration, ProgressUpdate, Step } from '../runbook/model.js';
import { TERMINAL_MIGRATION_STATUSES } from '../runbook/model.js';
import { shardLabel } from '../runbook/progress.js';
import { currentStep } from '../runbook/state-machine.js';
import type { ApprovalRequestView } from './blocks/approval.js';
import type { MigrationSummary } from './blocks/migration-list.js';
import type { CardEndpoint, CardProgress, CardStep, MigrationCardView } from './blocks/status-card.js';
import { formatCount, truncate } from './blocks/text.js';
import { META_CHANNEL, rootOf } from './migration-thread/message-store.js';

/** Who else may approve when no buddy is named, as mentions (config approvers). */
export function approversHint(approvers: { users: readonly string[]; groups: readonly string[] }): string {
  const shown = [...approvers.groups.map((g) => `<!subteam^${g}>`), ...approvers.users.map((u) => `<@${u}>`)];
  return shown.length > 5 ? `${shown.slice(0, 5).join(', ')} and ${shown.length - 5} more` : shown.join(', ');
}

export function strategyWhy(plan: Plan): string | undefined {
  if (!plan.strategy) return undefined;
  const how: string[] = [];
  if (plan.options.strategy !== 'auto') how.push(`asked for with strategy=${plan.options.strategy}`);
  else how.push('the best strategy both servers allow');
  if (plan.options.strategy === 'auto' && plan.because && plan.strategy !== 'replication')
    how.push(plan.because);
  if (plan.strategy === 'psync') how.push('the replication stream is applied until a short write pause');
  if (plan.copyMode === 'by-type') how.push('copying type by type');
  if (plan.liveSync === 'notifications' || plan.liveSync === 'enable-notifications')
    how.push('following changes live until a short write pause');
  else if (plan.liveSync === 'none')
    how.push(
      plan.strategy === 'migrate'
        ? 'no change capture, so a final pass sends every key again while source writes pause'
        : 'no change capture, so source writes pause during the copy',
    );
  return `${how.join('; ')}.`;
}

function endpointCard(name: string, e: Plan['source'] | undefined, keys: number | undefined): CardEndpoint {
  const parts: string[] = [];
  if (e?.version) parts.push(`Redis ${e.version}`);
  if (keys !== undefined) parts.push(`${formatCount(keys)} keys`);
  if (e?.redactedUrl && e.redactedUrl !== name) parts.push(e.redactedUrl);
  return parts.length > 0 ? { name, detail: parts.join(' · ') } : { name };
}

/** What a card shows of the plan alike before and after the migration exists. */
function planSides(
  plan: Plan,
  source: string,
  target: string,
): Pick<MigrationCardView, 'source' | 'target' | 'strategy' | 'warnings' | 'databases'> {
  return {
    ...(plan.databases ? { databases: plan.databases } : {}),
    source: endpointCard(source, plan.source, plan.estimates?.keys),
    target: endpointCard(target, plan.target, undefined),
    strategy: {
      chosen: plan.strategy,
      ruledOut: plan.assessments
        .filter((a) => !a.viable)
        .map((a) => ({ strategy: a.strategy, reasons: a.reasons })),
    },
    warnings: plan.warnings.map((w) => w.message),
  };
}

function stepCard(m: Migration, s: Step): CardStep {
  const card: CardStep = {
    id: s.id,
    title: s.title,
    state: s.status,
    gated: s.needsApproval || s.gate === 'confirmation',
  };
  const set = (note: string, by?: string) => {
    card.note = truncate(note, 200);
    if (by) card.by = by;
  };
  switch (s.status) {
    case 'awaiting_approval':
      if (s.gate === 'confirmation') set(`waiting for someone to confirm: ${s.gatePrompt ?? 'done'}`);
      else if (m.buddy && s.quorum > 1) set(`waiting for ${s.quorum} approvals, one of them from`, m.buddy);
      else if (m.buddy) set('waiting for', m.buddy);
      else set(s.quorum > 1 ? `waiting for ${s.quorum} approvers` : 'waiting for an approver');
      break;
    case 'approved': {
      const by = s.confirmedBy?.userId ?? s.approvedBy?.[0]?.userId;
      set(s.confirmedBy ? 'confirmed by' : 'approved by', by);
      break;
    }
    case 'running':
      if (s.lastError) set(`retrying after: ${s.lastError}`);
      break;
    case 'succeeded':
      if (s.summary) set(s.summary);
      break;
    case 'failed':
      set(s.error ?? 'failed');
      break;
    case 'rejected':
      set(`rejected${s.rejectedBy?.reason ? ` (${s.rejectedBy.reason})` : ''} by`, s.rejectedBy?.userId);
      break;
    case 'expired':
      set('the approval request expired; ask again in the thread');
      break;
    case 'aborted':
      set(s.summary ?? 'not run');
      break;
    default:
      break;
  }
  return card;
}

/** The progress line of the step that is running, from the latest published progress. */
export function cardProgress(
  m: Migration,
  progress: Record<string, ProgressUpdate>,
): CardProgress | undefined {
  for (const s of m.steps) {
    if (s.status !== 'running') continue;
    const p = progress[s.id];
    // Progress of an earlier run of the step is not this run's.
    if (!p || (s.startedAt && p.at < s.startedAt)) continue;
    const out: CardProgress = { label: `${s.title}${p.phase ? ` (${p.phase})` : ''}` };
    if (p.keysDone !== undefined) out.keysCopied = p.keysDone;
    if (p.keysTotal !== undefined) out.keysTotal = p.keysTotal;
    if (p.keysPerSecond !== undefined) out.keysPerSecond = p.keysPerSecond;
    if (p.etaSeconds !== undefined) out.etaSeconds = p.etaSeconds;
    if (p.lagMs !== undefined) out.lagSeconds = p.lagMs / 1000;
    if (p.message) out.detail = p.message;
    if (p.shards?.length) {
      out.shards = p.shards.map((l) => ({
        label: shardLabel(l),
        state: l.state,
        keysDone: l.keysDone,
        keysTotal: l.keysTotal,
        ...(l.worker ? { worker: l.worker } : {}),
      }));
    }
    return out;
  }
  return undefined;
}

export function cardView(m: Migration, progress: Record<string, ProgressUpdate> = {}): MigrationCardView {
  const plan = m.plan;
  const view: MigrationCardView = {
    id: m.id,
    state: m.status,
    ...planSides(plan, m.source, m.target),
    blockers: plan.blockers.map((b) => b.message),
    steps: m.steps.map((s) => stepCard(m, s)),
    requesterId: m.requester,
    updatedAt: m.updatedAt,
    footer: m.meta?.[META_CHANNEL]
      ? 'Approvals, results and verification are posted in the thread.'
      : 'Planned outside Slack.',
  };
  const why = strategyWhy(plan);
  if (why) view.strategy.why = why;
  if (m.buddy) view.buddyId = m.buddy;
  const p = cardProgress(m, progress);
  if (p) view.progress = p;
  return view;
}

export interface PlanCardInput {
  source: string;
  target: string;
  requesterId: string;
  buddyId?: string;
  /** The id it will be created with; none for a blocked plan (never stored). */
  id?: string;
  /** The approval policy the migration gets: who may approve each gated step is shown with it. */
  policy?: ApprovalPolicy;
}

/**
 * A plan before it is a migration: the card posted first (so the migration can be created knowing
 * its thread), or, when blocked, the card shown to the requester only.
 */
export function planCardView(plan: Plan, input: PlanCardInput): MigrationCardView {
  const blocked = !plan.strategy || plan.blockers.length > 0;
  const view: MigrationCardView = {
    id: input.id ?? 'not created',
    state: blocked ? 'blocked' : 'created',
    ...planSides(plan, input.source, input.target),
    blockers:
      blocked && plan.blockers.length === 0
        ? ['no strategy is possible']
        : plan.blockers.map((b) => b.message),
    steps: plan.steps.map((s) => {
      const step: CardStep = { id: s.id, title: s.title, state: 'pending', gated: s.needsApproval };
      const rule = input.policy && gateRule(s, input.policy, input.buddyId);
      if (rule) step.note = `needs ${rule}`;
      return step;
    }),
    requesterId: input.requesterId,
    footer:
      (blocked
        ? 'Nothing was started. Fix the blockers, then plan again.'
        : 'Approvals, results and verification are posted in the thread.') +
      (input.policy ? ` ${policySummary(input.policy, input.buddyId)}` : ''),
  };
  const why = blocked
    ? plan.candidate
      ? `${plan.candidate} once the blockers are resolved`
      : undefined
    : strategyWhy(plan);
  if (why) view.strategy.why = why;
  if (input.buddyId) view.buddyId = input.buddyId;
  return view;
}

export function approvalView(
  m: Migration,
  step: Step,
  request: { gate: 'approval' | 'confirmation'; stepHash: string; expiresAt?: string; prompt?: string },
  hint?: string,
): ApprovalRequestView {
  const view: ApprovalRequestView = {
    migrationId: m.id,
    stepId: step.id,
    stepHash: request.stepHash,
    gate: request.gate,
    stepTitle: step.title,
    description: step.description,
    irreversible: step.irreversible,
    requesterId: m.requester,
  };
  // The migration's own approvers, not this process's config (the policy is fixed at creation).
  const own = m.policy?.approvers;
  const approvers = own
    ? approversHint({ users: own.users.filter((u) => u !== m.requester), groups: own.groups }) || undefined
    : hint;
  if (m.buddy) view.buddyId = m.buddy;
  // With a quorum above one, the buddy alone cannot approve: the other approvers are asked too.
  if (approvers && (!m.buddy || step.quorum > 1)) view.approversHint = approvers;
  if (request.prompt) view.prompt = request.prompt;
  if (request.expiresAt) view.expiresAt = request.expiresAt;
  return view;
}

export function migrationSummary(m: Migration): MigrationSummary {
  const summary: MigrationSummary = {
    id: m.id,
    source: m.source,
    target: m.target,
    state: m.status,
    requesterId: m.requester,
    createdAt: m.createdAt,
  };
  if (!TERMINAL_MIGRATION_STATUSES.has(m.status)) {
    const cur = currentStep(m.steps);
    if (cur) summary.currentStep = cur.title;
  }
  if (m.buddy) summary.buddyId = m.buddy;
  const root = rootOf(m);
  if (root) summary.channelId = root.channel;
  return summary;
}
