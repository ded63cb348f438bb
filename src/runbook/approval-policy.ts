// Who may approve, reject, confirm or abort what: pure functions over a migration, a step and the
// person asking. Every refusal carries a sentence meant for that person.
import type { ApprovalRecord, Migration, Step } from './model.js';

export const DEFAULT_APPROVAL_EXPIRY_MS = 3_600_000;

/**
 * Who may approve, how many must, and for how long a request stays open. Read from the config when
 * a migration is created and then fixed into it (`Migration.policy`): a worker or app replica
 * started with another config decides by the migration's policy, never by its own.
 */
export interface ApprovalPolicy {
  /** Slack user ids and user group ids allowed to approve. Empty: only the named buddy may. */
  approvers: { users: readonly string[]; groups: readonly string[] };
  /** How long an approval request stays open. */
  expiresAfterMs: number;
  /** Distinct approvers needed per step kind (default 1), with or without a buddy. */
  quorum: Readonly<Record<string, number>>;
}

/** The config's approval settings: what a new migration's policy is made from. */
export type ApprovalSettings = ApprovalPolicy;

export const DEFAULT_APPROVAL_SETTINGS: ApprovalSettings = {
  approvers: { users: [], groups: [] },
  expiresAfterMs: DEFAULT_APPROVAL_EXPIRY_MS,
  quorum: {},
};

/**
 * The policy a migration is decided by. A document stored before policies were fixed into
 * migrations gets the closed policy (no approvers: only its buddy may approve, one at a time), so
 * no config can widen it.
 */
export function policyOf(migration: Pick<Migration, 'policy'>): ApprovalPolicy {
  return migration.policy ?? DEFAULT_APPROVAL_SETTINGS;
}

/** A copy of the settings that nothing shares, to be stored in a migration. */
export function freezePolicy(settings: ApprovalSettings): ApprovalPolicy {
  return {
    approvers: { users: [...settings.approvers.users], groups: [...settings.approvers.groups] },
    expiresAfterMs: settings.expiresAfterMs,
    quorum: { ...settings.quorum },
  };
}

export function hasApprovers(policy: ApprovalPolicy): boolean {
  return policy.approvers.users.length > 0 || policy.approvers.groups.length > 0;
}

/** Whether the person is one of the policy's approvers (by user id or a group they belong to). */
export function isApprover(policy: ApprovalPolicy, who: Identity): boolean {
  const { users, groups } = policy.approvers;
  return users.includes(who.userId) || who.groups.some((g) => groups.includes(g));
}

/** The person asking, with the configured approver groups they belong to (resolved by the caller). */
export interface Identity {
  userId: string;
  groups: readonly string[];
}

export type RefusalCode =
  | 'not_found'
  | 'requester'
  | 'not_buddy'
  | 'needs_buddy'
  | 'not_approver'
  | 'no_approvers'
  | 'buddy_not_approver'
  | 'quorum_unreachable'
  | 'not_involved'
  | 'stale_hash'
  | 'expired'
  | 'duplicate'
  | 'wrong_gate'
  | 'not_awaiting'
  | 'aborted'
  | 'finished'
  | 'not_failed'
  | 'locked'
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

/** Distinct approvers a step needs: the policy's quorum for its kind, whether or not a buddy is named. */
export function quorumFor(step: Pick<Step, 'kind'>, policy: ApprovalPolicy): number {
  const q = policy.quorum[step.kind];
  return Math.max(1, Number.isInteger(q) ? q! : 1);
}

/**
 * Whether a migration with this requester, buddy and gated steps can be approved at all under the
 * policy; checked when it is planned, so nobody learns at the first click that nobody may.
 * `buddy` carries the approver groups the buddy belongs to.
 */
export function checkPlanPolicy(
  policy: ApprovalPolicy,
  requester: string,
  buddy: Identity | undefined,
  gated: readonly Pick<Step, 'kind' | 'title'>[],
): Refusal | null {
  if (buddy && buddy.userId === requester) {
    return refuse(
      'requester',
      'the buddy must be someone other than the requester: the buddy approves the steps you asked for',
    );
  }
  const maxQuorum = Math.max(0, ...gated.map((s) => quorumFor(s, policy)));
  const widest = gated.find((s) => quorumFor(s, policy) === maxQuorum);
  if (!hasApprovers(policy)) {
    if (!buddy) {
      return refuse(
        'no_approvers',
        'nobody could approve its steps: no buddy is named and no approvers are configured; ' +
          'name a buddy, or ask an admin to add approvers to the config',
      );
    }
    if (widest && maxQuorum > 1) {
      return refuse(
        'quorum_unreachable',
        `"${widest.title}" needs ${maxQuorum} different approvers (approvals.quorum.${widest.kind}), but with ` +
          'no approvers configured only the buddy may approve; ask an admin to add approvers to the config',
      );
    }
    return null;
  }
  if (buddy && !isApprover(policy, buddy)) {
    return refuse(
      'buddy_not_approver',
      `the buddy ${buddy.userId} is not one of the configured approvers, and only they may approve; ` +
        'name an approver as the buddy, or leave the buddy out',
    );
  }
  // With users only (groups may hold anyone), the quorum must be reachable without the requester.
  const { users, groups } = policy.approvers;
  const eligible = users.filter((u) => u !== requester).length;
  if (groups.length === 0 && widest && maxQuorum > eligible) {
    return refuse(
      'quorum_unreachable',
      `"${widest.title}" needs ${maxQuorum} different approvers (approvals.quorum.${widest.kind}), but only ` +
        `${eligible} configured approver${eligible === 1 ? '' : 's'} other than you could approve it`,
    );
  }
  return null;
}

/** The identity rules of the two-person check (status checks come separately). */
export function checkApprover(
  migration: Pick<Migration, 'requester' | 'buddy' | 'policy'>,
  who: Identity,
  verb = 'approve',
): Refusal | null {
  if (who.userId === migration.requester) {
    return refuse('requester', `you requested this migration; someone else must ${verb} its steps`);
  }
  const policy = policyOf(migration);
  if (hasApprovers(policy)) {
    if (isApprover(policy, who)) return null;
    return refuse(
      'not_approver',
      `you are not one of the approvers of this migration, so you cannot ${verb} this step` +
        (who.userId === migration.buddy ? ' (being named the buddy does not make you one)' : ''),
    );
  }
  // Without configured approvers the named buddy is the only second person (the weaker mode).
  if (!migration.buddy) {
    return refuse(
      'no_approvers',
      `no approvers are configured and no buddy was named, so nobody can ${verb} this step; ` +
        'name a buddy or add approvers to the config',
    );
  }
  if (who.userId !== migration.buddy) {
    return refuse(
      'not_buddy',
      `only the named buddy (${migration.buddy}) can ${verb} steps of this migration`,
    );
  }
  return null;
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

/**
 * A decision counts only for the exact step version it was made on. Step hashes bind the
 * migration id, the step id and its parameters, so a button value edited to point at another
 * migration or step, or kept from an older version, never matches.
 */
function checkHash(migration: Pick<Migration, 'id'>, step: Step, seenHash: string): Refusal | null {
  if (seenHash === step.hash) return null;
  return refuse(
    'stale_hash',
    `this request is not for the current version of "${step.title}" in migration ${migration.id}: the ` +
      'step changed since this request was made, or the request belongs to another migration or step; ' +
      "nothing was recorded; decide on the newest request in the migration's thread",
  );
}

export interface ApprovalInput {
  migration: Migration;
  step: Step;
  who: Identity;
  /** The hash of the step version the person saw. */
  stepHash: string;
  nowMs: number;
}

export type ApprovalOutcome =
  | Refusal
  | { ok: true; approvals: ApprovalRecord[]; complete: boolean; needed: number; quorum: number };

/**
 * Records one approval toward the step's quorum, or says why it does not count. The quorum is the
 * one fixed into the step when the migration was created; each approver counts once, and a named
 * buddy is always one of the approvals (so the last one missing is the buddy's).
 */
export function decideApproval(input: ApprovalInput): ApprovalOutcome {
  const { migration, step, who, nowMs } = input;
  const refusal =
    checkOpen(migration, step, 'approval', nowMs) ??
    checkHash(migration, step, input.stepHash) ??
    checkApprover(migration, who);
  if (refusal) return refusal;
  const quorum = step.quorum || quorumFor(step, policyOf(migration));
  const current = step.approvals.filter((a) => a.stepHash === step.hash);
  if (current.some((a) => a.userId === who.userId)) {
    const needed = quorum - current.length;
    return refuse(
      'duplicate',
      `you already approved "${step.title}"; it needs ${needed} more approval${needed === 1 ? '' : 's'} from other people`,
    );
  }
  const buddy = migration.buddy;
  if (buddy && who.userId !== buddy && !current.some((a) => a.userId === buddy)) {
    if (current.length + 1 >= quorum) {
      return refuse(
        'needs_buddy',
        `the named buddy (${buddy}) must be one of the ${quorum} approval${quorum === 1 ? '' : 's'} of ` +
          `"${step.title}"${current.length ? `, and ${current.length} other${current.length === 1 ? ' has' : 's have'} approved` : ''}; ` +
          'ask the buddy to approve',
      );
    }
  }
  const approvals = [
    ...current,
    { userId: who.userId, at: new Date(nowMs).toISOString(), stepHash: step.hash },
  ];
  const needed = Math.max(0, quorum - approvals.length);
  return { ok: true, approvals, complete: needed === 0, needed, quorum };
}

/** A rejection needs the same standing as an approval (one approver may stop a step). */
export function decideRejection(input: ApprovalInput): Refusal | { ok: true } {
  const { migration, step, who, nowMs } = input;
  const refusal =
    checkOpen(migration, step, step.gate ?? 'approval', nowMs) ??
    checkHash(migration, step, input.stepHash) ??
    checkApprover(migration, who, 'reject');
  return refusal ?? { ok: true };
}

/** Whether the person is part of this migration: requester, buddy or approver. */
export function isInvolved(
  migration: Pick<Migration, 'requester' | 'buddy' | 'policy'>,
  who: Identity,
): boolean {
  if (who.userId === migration.requester || who.userId === migration.buddy) return true;
  return isApprover(policyOf(migration), who);
}

/**
 * Whether `who` may ask for `action` (start it, retry a step, ask for an approval again): anyone
 * involved, or the system itself when `bySystem`; nobody once the migration was aborted.
 */
export function checkRequest(
  migration: Migration,
  who: Identity,
  action: string,
  bySystem = false,
): Refusal | null {
  if (!bySystem && !isInvolved(migration, who)) {
    return refuse('not_involved', `only the requester, the buddy or an approver can ${action}`);
  }
  if (migration.abort) return refuse('aborted', `this migration was aborted by ${migration.abort.userId}`);
  return null;
}

/**
 * Confirming an outside action (apps repointed) states a fact rather than giving a second opinion,
 * so the requester may do it too; strangers may not.
 */
export function decideConfirmation(input: ApprovalInput): Refusal | { ok: true } {
  const { migration, step, who, nowMs } = input;
  const refusal =
    checkOpen(migration, step, 'confirmation', nowMs) ?? checkHash(migration, step, input.stepHash);
  if (refusal) return refusal;
  if (!isInvolved(migration, who)) {
    return refuse(
      'not_involved',
      'only the requester, the buddy or an approver of this migration can confirm its steps',
    );
  }
  return { ok: true };
}

/** Anyone involved may stop a migration: stopping is always the safe direction. */
export function decideAbort(migration: Migration, who: Identity): Refusal | null {
  if (migration.abort)
    return refuse('aborted', `this migration was already aborted by ${migration.abort.userId}`);
  // A failed or rejected migration may still be aborted: that is how people say "we are not
  // retrying", and the abort puts the source back where a dead worker left it changed.
  if (['succeeded', 'aborted'].includes(migration.status)) {
    return refuse('finished', `this migration has already ended (${migration.status})`);
  }
  if (!isInvolved(migration, who)) {
    return refuse('not_involved', 'only the requester, the buddy or an approver can abort this migration');
  }
  return null;
}
