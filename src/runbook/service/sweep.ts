// What the sweeper runs every few seconds over the active migrations: approval requests past
// their time are expired, and steps that should be queued are queued again (a process may have
// died between a commit and its enqueue).
import { findStep, TERMINAL_MIGRATION_STATUSES } from '../model.js';
import type { MigrationTransactions } from './transactions.js';

/** Expires every approval request past its time. Returns how many expired. */
export async function expireDue(tx: MigrationTransactions): Promise<number> {
  let expired = 0;
  for (const m of await tx.store.list({ activeOnly: true })) {
    for (const step of m.steps) {
      if (step.status !== 'awaiting_approval' || !step.approvalExpiresAt) continue;
      if (Date.parse(step.approvalExpiresAt) > tx.now()) continue;
      const res = await tx.mutate<boolean>(m.id, (cur) => {
        const s = findStep(cur, step.id)!;
        if (s.status !== 'awaiting_approval' || !s.approvalExpiresAt)
          return tx.noChange(cur, 'not open', false);
        if (Date.parse(s.approvalExpiresAt) > tx.now()) return tx.noChange(cur, 'not due', false);
        const events = [tx.expire(cur, s)];
        return { ok: true, migration: cur, events, message: 'expired', value: true };
      });
      if (res.ok && res.value) expired += 1;
    }
  }
  return expired;
}

/**
 * Makes sure every active migration's current step is queued when it should be. Enqueuing is
 * idempotent. Returns how many refs were queued.
 */
export async function repair(tx: MigrationTransactions): Promise<number> {
  let queued = 0;
  for (const m of await tx.store.list({ activeOnly: true })) {
    if (TERMINAL_MIGRATION_STATUSES.has(m.status)) continue;
    const refs = tx.runnable(m);
    for (const ref of refs) await tx.enqueue(ref);
    queued += refs.length;
  }
  return queued;
}
