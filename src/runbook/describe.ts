// Sentences for people about where a migration stands and who may decide its steps.
import { type ApprovalPolicy, hasApprovers, quorumFor } from './approval-policy.js';
import type { Migration, Step } from './model.js';
import { defaultAbortState } from './step-executor.js';

/** Who has to act on a gated step, in words. */
export function approverPhrase(m: Pick<Migration, 'buddy'>, quorum: number): string {
  const others = m.buddy ? quorum - 1 : quorum;
  const rest = others > 1 ? `${others} different approvers` : 'an approver';
  if (!m.buddy) return rest;
  return others > 0
    ? `the buddy (${m.buddy}) and ${others > 1 ? `${others} other approvers` : 'another approver'}`
    : `the buddy (${m.buddy})`;
}

/** Who may approve a gated step under `policy`, for plans: "2 approvals, by the buddy (U1) and another approver". */
export function gateRule(
  step: Pick<Step, 'kind' | 'needsApproval'>,
  policy: ApprovalPolicy,
  buddy: string | undefined,
): string | undefined {
  if (!step.needsApproval) return undefined;
  const quorum = quorumFor(step, policy);
  const count = quorum > 1 ? `${quorum} approvals` : 'one approval';
  if (!hasApprovers(policy)) return `${count}, by the buddy ${buddy ?? '(none named yet)'}`;
  return `${count}, by ${approverPhrase({ ...(buddy ? { buddy } : {}) }, quorum)}`;
}

/** The approval policy in one sentence, as it will be fixed into the migration. */
export function policySummary(policy: ApprovalPolicy, buddy: string | undefined): string {
  const { users, groups } = policy.approvers;
  const expiry = `requests expire after ${formatMs(policy.expiresAfterMs)}`;
  const quorum = Object.entries(policy.quorum)
    .filter(([, n]) => n > 1)
    .map(([kind, n]) => `${kind} ${n}`);
  const quorumText = quorum.length ? `; quorum: ${quorum.join(', ')} (others 1)` : '';
  if (!hasApprovers(policy)) {
    return (
      `No approvers configured: only the named buddy${buddy ? ` (${buddy})` : ''} may approve ` +
      `(the weaker mode; the requester chose the buddy)${quorumText}; ${expiry}.`
    );
  }
  const who = [
    users.length ? `users ${users.join(', ')}` : '',
    groups.length ? `groups ${groups.join(', ')}` : '',
  ].filter(Boolean);
  return (
    `Approvers: ${who.join('; ')}${buddy ? `; the buddy ${buddy} is one of every step's approvals` : ''}` +
    `${quorumText}; the requester never approves; ${expiry}.`
  );
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}

function titles(steps: Step[]): string {
  return steps.map((s) => `"${s.title}"`).join(', ');
}

/**
 * After an abort: what ran, what was stopped and what it left behind, what never ran. Source and
 * target are only changed by steps that ran, so this is what people need to decide the next move.
 */
export function describeState(m: Migration, stopped: { step: Step; state: string }[] = []): string {
  const done = m.steps.filter((s) => s.status === 'succeeded');
  const running = m.steps.filter((s) => s.status === 'running');
  const notRun = m.steps.filter((s) => !['succeeded', 'running', 'failed'].includes(s.status));
  const parts: string[] = [];
  if (done.length === 0 && running.length === 0 && stopped.length === 0) {
    parts.push('No step had run, so source and target are as they were.');
  } else if (done.length > 0) {
    parts.push(`Completed: ${titles(done)}.`);
  }
  for (const s of stopped) parts.push(`Stopped "${s.step.title}": ${s.state}.`);
  for (const s of running) {
    if (!stopped.some((x) => x.step.id === s.id)) {
      parts.push(`Stopping "${s.title}" (${defaultAbortState(s)}).`);
    }
  }
  if (notRun.length > 0) parts.push(`Not run: ${titles(notRun)}.`);
  return parts.join(' ');
}
