// Who may approve, reject, confirm or abort what: pure functions over a migration, a step and the
// person asking. Every refusal carries a sentence meant for that person.
import type { ApprovalRecord, Migration, Step } from './model.js';

export const DEFAULT_APPROVAL_EXPIRY_MS = 3_600_000;

export interface ApprovalSettings {
  /** Slack user ids and user group ids allowed to approve when no buddy is named. */
  approvers: { users: readonly string[]; groups: readonly string[] };
  /** How long an approval request stays open. */
  expiresAfterMs: number;
  /** Distinct approvers needed per step kind (default 1). Applies when no buddy is named. */
  quorum: Readonly<Record<string, number>>;
}

export const DEFAULT_APPROVAL_SETTINGS: ApprovalSettings = {
  approvers: { users: [], groups: [] },
  expiresAfterMs: DEFAULT_APPROVAL_EXPIRY_MS,
  quorum: {},
};

/** The person asking, with the configured approver groups they belong to (resolved by the caller). */
export interface Identity {
  userId: string;
  groups: readonly string[];
}

export type RefusalCode =
  | 'not_found'
  | 'requester'
  | 'not_buddy'
  | 'not_approver'
  | 'no_approvers'
  | 'not_involved'
  | 'stale_hash'
  | 'expired'
  | 'duplicate'
  | 'wrong_gate'
  | 'not_awaiting'
  | 'aborted'
  | 'finished'
  | 'not_failed'
  | 'busy';

export interface Refusal {
  ok: false;
  code: RefusalCode;
  /** For people: why, and what to do instead. */
  reason: string;
  /** With `busy`: when trying again may succeed. */
  retryInMs?: number;
}

export function refuse(code: RefusalCode, reason: string): Refusal {
  return { ok: false, code, reason };
}

/** Distinct approvers a step needs. A named buddy is the single approver. */
export function quorumFor(
  step: Pick<Step, 'kind'>,
  buddy: string | undefined,
  settings: ApprovalSettings,
): number {
  if (buddy) return 1;
  return Math.max(1, settings.quorum[step.kind] ?? 1);
}

/** The identity rules of the two-person check (status checks come separately). */
export function checkApprover(
  migration: Pick<Migration, 'requester' | 'buddy'>,
  who: Identity,
  settings: ApprovalSettings,
  verb = 'approve',
): Refusal | null {
  if (who.userId === migration.requester) {
    return refuse('requester', `you requested this migration; someone else must ${verb} its steps`);
  }
  if (migration.buddy) {
    if (who.userId !== migration.buddy) {
      return refuse(
        'not_buddy',
        `only the named buddy (${migration.buddy}) can ${verb} steps of this migration`,
      );
    }
    return null;
  }
  const { users, groups } = settings.approvers;
  if (users.length === 0 && groups.length === 0) {
    return refuse(
      'no_approvers',
      `no approvers are configured and no buddy was named, so nobody can ${verb} this step; ` +
        'name a buddy or add approvers to the config',
    );
  }
  if (users.includes(who.userId) || who.groups.some((g) => groups.includes(g))) return null;
  return refuse(
    'not_approver',
    `you are not one of the configured approvers, so you cannot ${verb} this step`,
  );
}

/** Why a step is not open for a decision right now, or null when it is. */
export function checkOpen(
  migration: Migration,
  step: Step,
  gate: 'approval' | 'confirmation',
  nowMs: number,
) {
  const title = `"${step.title}"`;
  if (migration.abort) return refuse('aborted', `this migration was aborted by ${migration.abort.userId}`);
  switch (step.status) {
    case 'awaiting_approval':
      break;
    case 'approved': {
      const by = step.confirmedBy?.userId ?? step.approvedBy?.map((d) => d.userId).join(', ');
      return refuse(
        'not_awaiting',
        `${title} was already ${step.confirmedBy ? 'confirmed' : 'approved'} by ${by}`,
      );
    }
    case 'rejected':
      return refuse('finished', `${title} was rejected by ${step.rejectedBy?.userId ?? 'someone'}`);
    case 'expired':
      return refuse('expired', `the approval request for ${title} expired; ask for it again`);
    case 'running':
      return refuse('not_awaiting', `${title} is already running`);
    case 'succeeded':
      return refuse('finished', `${title} has already run`);
    case 'failed':
      return refuse('finished', `${title} failed; it has to be retried before anyone can approve it`);
    case 'aborted':
      return refuse('aborted', `${title} was aborted`);
    case 'pending':
      return refuse('not_awaiting', `${title} is not up for approval yet`);
  }
  const stepGate = step.gate ?? 'approval';
  if (stepGate !== gate) {
    return refuse(
      'wrong_gate',
      stepGate === 'confirmation'
        ? `${title} waits for someone to confirm an outside action, not for an approval`
        : `${title} waits for an approval, not a confirmation`,
    );
  }
  if (step.approvalExpiresAt && Date.parse(step.approvalExpiresAt) <= nowMs) {
    return refuse(
      'expired',
      `the approval request for ${title} expired at ${step.approvalExpiresAt}; ask for it again`,
    );
  }
  return null;
}

function checkHash(step: Step, seenHash: string): Refusal | null {
  if (seenHash === step.hash) return null;
  return refuse(
    'stale_hash',
    `"${step.title}" changed since this request was made; review the current version and decide again`,
  );
}

export interface ApprovalInput {
  migration: Migration;
  step: Step;
  who: Identity;
  /** The hash of the step version the person saw. */
  stepHash: string;
  nowMs: number;
  settings: ApprovalSettings;
}

export type ApprovalOutcome =
  | Refusal
  | { ok: true; approvals: ApprovalRecord[]; complete: boolean; needed: number; quorum: number };

/** Records one approval toward the step's quorum, or says why it does not count. */
export function decideApproval(input: ApprovalInput): ApprovalOutcome {
  const { migration, step, who, nowMs, settings } = input;
  const refusal =
    checkOpen(migration, step, 'approval', nowMs) ??
    checkHash(step, input.stepHash) ??
    checkApprover(migration, who, settings);
  if (refusal) return refusal;
  const quorum = step.quorum || quorumFor(step, migration.buddy, settings);
  const current = step.approvals.filter((a) => a.stepHash === step.hash);
  if (current.some((a) => a.userId === who.userId)) {
    const needed = quorum - current.length;
    return refuse(
      'duplicate',
      `you already approved "${step.title}"; it needs ${needed} more approval${needed === 1 ? '' : 's'} from other people`,
    );
  }
  const approvals = [
    ...current,
    { userId: who.userId, at: new Date(nowMs).toISOString(), stepHash: step.hash },
  ];
  const needed = Math.max(0, quorum - approvals.length);
  return { ok: true, approvals, complete: needed === 0, needed, quorum };
}

/** A rejection needs the same standing as an approval. */
export function decideRejection(input: ApprovalInput): Refusal | { ok: true } {
  const { migration, step, who, nowMs, settings } = input;
  const refusal =
    checkOpen(migration, step, step.gate ?? 'approval', nowMs) ??
    checkHash(step, input.stepHash) ??
    checkApprover(migration, who, settings, 'reject');
  return refusal ?? { ok: true };
}

/** Whether the person is part of this migration: requester, buddy or approver. */
export function isInvolved(migration: Migration, who: Identity, settings: ApprovalSettings): boolean {
  if (who.userId === migration.requester || who.userId === migration.buddy) return true;
  const { users, groups } = settings.approvers;
  return users.includes(who.userId) || who.groups.some((g) => groups.includes(g));
}

/**
 * Confirming an outside action (apps repointed) states a fact rather than giving a second opinion,
 * so the requester may do it too; strangers may not.
 */
export function decideConfirmation(input: ApprovalInput): Refusal | { ok: true } {
  const { migration, step, who, nowMs, settings } = input;
  const refusal = checkOpen(migration, step, 'confirmation', nowMs) ?? checkHash(step, input.stepHash);
  if (refusal) return refusal;
  if (!isInvolved(migration, who, settings)) {
    return refuse(
      'not_involved',
      'only the requester, the buddy or an approver of this migration can confirm its steps',
    );
  }
  return { ok: true };
}

/** Anyone involved may stop a migration: stopping is always the safe direction. */
export function decideAbort(migration: Migration, who: Identity, settings: ApprovalSettings): Refusal | null {
  if (migration.abort)
    return refuse('aborted', `this migration was already aborted by ${migration.abort.userId}`);
  // A failed or rejected migration may still be aborted: that is how people say "we are not
  // retrying", and the abort puts the source back where a dead worker left it changed.
  if (['succeeded', 'aborted'].includes(migration.status)) {
    return refuse('finished', `this migration has already ended (${migration.status})`);
  }
  if (!isInvolved(migration, who, settings)) {
    return refuse('not_involved', 'only the requester, the buddy or an approver can abort this migration');
  }
  return null;
}
