// Clearing a server's stale locks: those whose migration is gone or has ended, which nothing else
// gives back (a migration's own locks go with its last commit).
import {
  type ApprovalSettings,
  hasApprovers,
  type Identity,
  isApprover,
  type Refusal,
  refuse,
} from '../approval-policy.js';
import { isStaleLock, lockHolder } from './server-locks.js';
import type { MigrationTransactions } from './transactions.js';

/**
 * Clears the stale locks of a server ("10.0.0.5:6379"): those whose migration is gone or ended.
 * Only an approver may (when approvers are configured); a lock of an active migration is never
 * cleared here: abort that migration instead. Each clearing is recorded in the holder's audit trail.
 */
export async function unlockServer(
  tx: MigrationTransactions,
  approvers: ApprovalSettings,
  server: string,
  who: Identity,
): Promise<{ ok: true; message: string; cleared: string[] } | Refusal> {
  if (hasApprovers(approvers) && !isApprover(approvers, who)) {
    return refuse('not_approver', 'only a configured approver can clear a server lock');
  }
  const { store } = tx;
  const held = [...(await store.locksOf(server))];
  if (held.length === 0) {
    return refuse('not_found', `no migration holds a lock on ${server}; nothing to clear`);
  }
  const cleared: string[] = [];
  const active: string[] = [];
  for (const [unit, holderId] of held) {
    const holder = await lockHolder(store, unit, holderId);
    if (!isStaleLock(holder)) {
      active.push(`${holderId} (${holder.migration!.status})`);
      continue;
    }
    if (!(await store.clearLock(unit, holderId))) continue;
    cleared.push(unit);
    await store.append(holderId, [
      tx.event({ id: holderId }, 'lock_cleared', who.userId, {
        message: `${who.userId} cleared the stale lock ${unit} of migration ${holderId} (${holder.migration ? `it had ended: ${holder.migration.status}` : 'it no longer exists'})`,
        data: { unit, holderId },
      }),
    ]);
  }
  if (cleared.length === 0) {
    return refuse(
      'locked',
      `${server} is held by active migration ${active.join(', ')}; a lock of an active migration is ` +
        'not cleared: abort that migration if it must stop',
    );
  }
  const message =
    `cleared ${cleared.join(', ')}` +
    (active.length > 0 ? `; still held by active migration ${active.join(', ')}` : '');
  return { ok: true, message, cleared };
}
