// Asking something of one step outside its normal course: approval again after an expiry, a
// failed step run again, or its parameters changed before it runs.
import { type Identity, isInvolved, refuse } from '../approval-policy.js';
import { type AuditEvent, SYSTEM_ACTOR } from '../events.js';
import { findStep } from '../model.js';
import { stepHash } from '../step-hash.js';
import type { ActionResult, MigrationTransactions } from './transactions.js';

/** Asks again for an approval that expired. */
export function requestApproval(
  tx: MigrationTransactions,
  id: string,
  stepId: string,
  who: Identity,
): Promise<ActionResult> {
  const userId = who.userId;
  return tx.mutate(id, (m) => {
    const step = findStep(m, stepId);
    if (!step) return refuse('not_found', `migration ${id} has no step ${stepId}`);
    if (!isInvolved(m, who) && userId !== SYSTEM_ACTOR) {
      return refuse('not_involved', 'only the requester, the buddy or an approver can ask for approvals');
    }
    if (m.abort) return refuse('aborted', `this migration was aborted by ${m.abort.userId}`);
    if (step.status !== 'expired') {
      return refuse('not_awaiting', `"${step.title}" is ${step.status.replace('_', ' ')}, not expired`);
    }
    const events: AuditEvent[] = [];
    tx.openApproval(m, step, userId, events);
    return {
      ok: true,
      migration: m,
      events,
      message: `approval requested for "${step.title}"`,
      value: undefined,
    };
  });
}

/** Runs a failed step again (with a fresh job id, and a fresh approval when it is gated). */
export function retryStep(
  tx: MigrationTransactions,
  id: string,
  stepId: string,
  who: Identity,
): Promise<ActionResult> {
  const userId = who.userId;
  return tx.mutate(id, (m) => {
    const step = findStep(m, stepId);
    if (!step) return refuse('not_found', `migration ${id} has no step ${stepId}`);
    if (!isInvolved(m, who)) {
      return refuse('not_involved', 'only the requester, the buddy or an approver can retry steps');
    }
    if (m.abort) return refuse('aborted', `this migration was aborted by ${m.abort.userId}`);
    if (step.status !== 'failed') return refuse('not_failed', `"${step.title}" has not failed`);
    tx.move(step, 'retry');
    step.attempt += 1;
    step.approvals = [];
    delete step.error;
    delete step.finishedAt;
    delete step.approvedBy;
    const events = [
      tx.stepEvent(m, step, 'step_retry_requested', userId, {
        message: `${userId} asked to run "${step.title}" again (run ${step.attempt})`,
      }),
    ];
    const enqueue = tx.advance(m, events);
    return {
      ok: true,
      migration: m,
      events,
      enqueue,
      message: `"${step.title}" will run again`,
      value: undefined,
    };
  });
}

/**
 * Changes a step's parameters before it runs (e.g. preflight found something new). Earlier
 * approvals stop counting; an open request is made again for the new version.
 */
export function amendStep(
  tx: MigrationTransactions,
  id: string,
  stepId: string,
  params: Record<string, unknown>,
  actor: string,
): Promise<ActionResult> {
  return tx.mutate(id, (m) => {
    const step = findStep(m, stepId);
    if (!step) return refuse('not_found', `migration ${id} has no step ${stepId}`);
    if (!['pending', 'awaiting_approval', 'expired', 'failed'].includes(step.status)) {
      return refuse('not_awaiting', `"${step.title}" is ${step.status}; it can no longer be changed`);
    }
    const before = step.hash;
    step.params = params;
    step.hash = stepHash(m.id, step);
    if (step.hash === before) return tx.noChange(m, 'no change');
    step.approvals = [];
    const events = [
      tx.stepEvent(m, step, 'step_amended', actor, {
        message: `"${step.title}" changed; earlier approvals no longer count`,
        data: { previousHash: before, stepHash: step.hash, params },
      }),
    ];
    if (step.status === 'awaiting_approval' && (step.gate ?? 'approval') === 'approval') {
      step.status = 'expired'; // re-open below with a new hash and expiry
      tx.openApproval(m, step, actor, events);
    }
    return { ok: true, migration: m, events, message: `amended "${step.title}"`, value: undefined };
  });
}
