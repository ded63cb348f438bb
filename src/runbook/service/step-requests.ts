// Asking something of one step outside its normal course: approval again after an expiry, a
// failed step run again, or its parameters changed before it runs.
import { checkRequest, type Identity, refuse } from '../approval-policy.js';
import { type AuditEvent, SYSTEM_ACTOR } from '../events.js';
import { stepHash } from '../step-hash.js';
import type { ActionResult, MigrationTransactions } from './transactions.js';

/** Asks again for an approval that expired. */
export function requestApproval(
  tx: MigrationTransactions,
  id: string,
  stepId: string,
  who: Identity,
): Promise<ActionResult> {
  const bySystem = who.userId === SYSTEM_ACTOR;
  return tx.mutateStep(id, stepId, (m, step) => {
    const refusal = checkRequest(m, who, 'ask for approvals', bySystem);
    if (refusal) return refusal;
    if (step.status !== 'expired') {
      return refuse('not_awaiting', `"${step.title}" is ${step.status.replace('_', ' ')}, not expired`);
    }
    const events: AuditEvent[] = [];
    tx.openApproval(m, step, who.userId, events);
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
  return tx.mutateStep(id, stepId, (m, step) => {
    const refusal = checkRequest(m, who, 'retry steps');
    if (refusal) return refusal;
    if (step.status !== 'failed') return refuse('not_failed', `"${step.title}" has not failed`);
    tx.move(step, 'retry');
    step.attempt += 1;
    step.approvals = [];
    delete step.error;
    delete step.finishedAt;
    delete step.approvedBy;
    const events = [
      tx.stepEvent(m, step, 'step_retry_requested', who.userId, {
        message: `${who.userId} asked to run "${step.title}" again (run ${step.attempt})`,
      }),
    ];
    const message = `"${step.title}" will run again`;
    return { ok: true, migration: m, events, enqueue: tx.advance(m, events), message, value: undefined };
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
  return tx.mutateStep(id, stepId, (m, step) => {
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
