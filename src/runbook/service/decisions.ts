// A person's decision at a step's gate: approve (toward the quorum of the two-person rule),
// reject, or confirm an outside action. The approval policy says whether it counts; this applies
// it to the step and says what runs next. Each is bound to the step version the person saw.
import {
  type ApprovalInput,
  decideApproval,
  decideConfirmation,
  decideRejection,
  type Identity,
  type Refusal,
} from '../approval-policy.js';
import type { Migration, Step } from '../model.js';
import { type ActionResult, clearGate, type MigrationTransactions, type Mutation } from './transactions.js';

/** One approval of one exact step version (`seenHash`). */
export function approveStep(
  tx: MigrationTransactions,
  id: string,
  stepId: string,
  who: Identity,
  seenHash: string,
): Promise<ActionResult> {
  const userId = who.userId;
  return decideAtGate(tx, { id, stepId, who, seenHash, decide: decideApproval }, (m, step, decision) => {
    step.approvals = decision.approvals;
    if (!decision.complete) {
      const events = [
        tx.stepEvent(m, step, 'approval_recorded', userId, {
          message: `${userId} approved "${step.title}" (${decision.approvals.length} of ${decision.quorum})`,
          data: { stepHash: step.hash },
        }),
      ];
      const message = `approval recorded; ${decision.needed} more needed for "${step.title}"`;
      return { ok: true, migration: m, events, message, value: undefined };
    }
    tx.move(step, 'approve');
    step.approvedBy = decision.approvals.map((a) => ({ userId: a.userId, at: a.at }));
    clearGate(step);
    const events = [
      tx.stepEvent(m, step, 'step_approved', userId, {
        message: `${decision.approvals.map((a) => a.userId).join(' and ')} approved "${step.title}"`,
        data: { stepHash: step.hash, approvers: decision.approvals.map((a) => a.userId) },
      }),
    ];
    const message = `approved "${step.title}"`;
    return { ok: true, migration: m, events, enqueue: tx.advance(m, events), message, value: undefined };
  });
}

export function rejectStep(
  tx: MigrationTransactions,
  id: string,
  stepId: string,
  who: Identity,
  seenHash: string,
  reason: string,
): Promise<ActionResult> {
  const userId = who.userId;
  return decideAtGate(tx, { id, stepId, who, seenHash, decide: decideRejection }, (m, step) => {
    tx.move(step, 'reject');
    step.rejectedBy = { userId, at: tx.iso(), ...(reason ? { reason } : {}) };
    clearGate(step);
    const events = [
      tx.stepEvent(m, step, 'step_rejected', userId, {
        message: `${userId} rejected "${step.title}"${reason ? `: ${reason}` : ''}`,
        data: { reason },
      }),
    ];
    return { ok: true, migration: m, events, message: `rejected "${step.title}"`, value: undefined };
  });
}

/** A person confirms the outside action a step asked for (e.g. apps repointed). */
export function confirmStep(
  tx: MigrationTransactions,
  id: string,
  stepId: string,
  who: Identity,
  seenHash: string,
  note: string,
): Promise<ActionResult> {
  const userId = who.userId;
  // A confirmation has no expiry of its own, so a refusal never records one.
  const gate = { id, stepId, who, seenHash, decide: decideConfirmation, recordsExpiry: false };
  return decideAtGate(tx, gate, (m, step) => {
    tx.move(step, 'confirm');
    step.confirmedBy = { userId, at: tx.iso(), ...(note ? { reason: note } : {}) };
    clearGate(step);
    const events = [
      tx.stepEvent(m, step, 'step_confirmed', userId, {
        message: `${userId} confirmed "${step.title}"${note ? `: ${note}` : ''}`,
      }),
    ];
    const enqueue = tx.advance(m, events);
    return {
      ok: true,
      migration: m,
      events,
      enqueue,
      message: `confirmed "${step.title}"`,
      value: undefined,
    };
  });
}

interface Gate<D> {
  id: string;
  stepId: string;
  who: Identity;
  seenHash: string;
  decide: (input: ApprovalInput) => D | Refusal;
  /** Whether a refusal for an expired request also closes it (approvals and rejections do). */
  recordsExpiry?: boolean;
}

/** Finds the step, asks the policy, and applies the decision it allows. */
function decideAtGate<D extends { ok: true }>(
  tx: MigrationTransactions,
  gate: Gate<D>,
  apply: (m: Migration, step: Step, decision: D) => Mutation,
): Promise<ActionResult> {
  const { id, stepId, who, seenHash } = gate;
  return tx.mutateStep(id, stepId, (m, step) => {
    const decision = gate.decide({ migration: m, step, who, stepHash: seenHash, nowMs: tx.now() });
    if (!decision.ok) return gate.recordsExpiry === false ? decision : tx.withExpiry(m, step, decision);
    return apply(m, step, decision);
  });
}
