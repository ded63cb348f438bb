// Refused actions in the audit trail: who tried what and why it did not count, so the record
// shows attempts as well as decisions.
import type { ActionResult, MigrationTransactions } from './transactions.js';

/**
 * Records `result` when it is a refusal, once per person, step, action and reason (a hundred
 * clicks are one refusal in the trail), and returns it unchanged. A failed write only logs: the
 * person still gets the refusal.
 */
export async function recordRefusal<T>(
  tx: MigrationTransactions,
  attempt: { id: string; stepId?: string; userId: string; verb: string },
  result: ActionResult<T>,
): Promise<ActionResult<T>> {
  if (result.ok || result.code === 'not_found' || result.code === 'busy') return result;
  const { id, stepId, userId, verb } = attempt;
  const dedupe = [stepId ?? '-', userId, verb, result.code].join('|');
  await tx.store
    .appendOnce(id, dedupe, {
      migrationId: id,
      type: 'approval_refused',
      at: tx.iso(),
      actor: userId,
      ...(stepId ? { stepId } : {}),
      message: `${userId} could not ${verb}: ${result.reason}`,
      data: { code: result.code, action: verb },
    })
    .catch((err) =>
      tx.logger?.warn({ migrationId: id, err: String(err) }, 'could not record a refusal in the audit trail'),
    );
  return result;
}
