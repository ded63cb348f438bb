// Starting and stopping a whole migration. Starting queues the first step (or asks for its
// approval); aborting stops every step that has not run, and tells a running one to stop.
import { checkRequest, decideAbort, type Identity } from '../approval-policy.js';
import { describeState } from '../describe.js';
import { canTransition } from '../state-machine.js';
import { type ActionResult, clearGate, type MigrationTransactions } from './transactions.js';

/** Starts the runbook: the first step is enqueued, or its approval is requested. Idempotent. */
export function startMigration(tx: MigrationTransactions, id: string, who: Identity): Promise<ActionResult> {
  const userId = who.userId;
  return tx.mutate(id, (m) => {
    const refusal = checkRequest(m, who, 'start this migration');
    if (refusal) return refusal;
    if (m.startedAt) return tx.noChange(m, 'the migration is already running');
    m.startedAt = tx.iso();
    const events = [tx.event(m, 'migration_started', userId, { message: `${userId} started the migration` })];
    const enqueue = tx.advance(m, events);
    return { ok: true, migration: m, events, enqueue, message: 'migration started', value: undefined };
  });
}

/**
 * Stops the migration: steps not yet running will never run, a running step is told to stop
 * (abort flag + pub/sub; its worker records what it left behind).
 */
export function abortMigration(
  tx: MigrationTransactions,
  id: string,
  who: Identity,
  reason: string,
): Promise<ActionResult> {
  const userId = who.userId;
  return tx.mutate(id, (m) => {
    const refusal = decideAbort(m, who);
    if (refusal) return refusal;
    const at = tx.iso();
    m.abort = { userId, at, ...(reason ? { reason } : {}) };
    for (const step of m.steps) {
      if (step.status !== 'running' && canTransition(step.status, 'abort')) {
        tx.move(step, 'abort');
        clearGate(step);
        step.finishedAt ??= at;
      }
    }
    const state = describeState(m);
    const events = [
      tx.event(m, 'migration_aborted', userId, {
        message: `${userId} aborted the migration${reason ? ` (${reason})` : ''}. ${state}`,
        data: { reason, state },
      }),
    ];
    return {
      ok: true,
      migration: m,
      events,
      options: { abort: { userId, at } },
      message: `aborted. ${state}`,
      value: undefined,
    };
  });
}
