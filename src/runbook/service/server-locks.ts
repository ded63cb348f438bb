// Who holds a server. Taking and giving back locks is part of a commit (store.ts); these answer
// the questions around it: which migrations hold these units (asked before creating one, and
// when a commit was refused), and whether a holder's lock is stale (unlock.ts clears those).
import { EVERY_DB, isStale, type LockHolder, parseLockUnit } from '../locks.js';
import { TERMINAL_MIGRATION_STATUSES } from '../model.js';
import type { MigrationStore } from '../store.js';

export async function lockHolder(
  store: MigrationStore,
  unit: string,
  migrationId: string,
): Promise<LockHolder> {
  const migration = await store.get(migrationId);
  return { unit, migrationId, ...(migration ? { migration } : {}) };
}

/** A holder whose migration is gone or ended holds a stale lock. */
export function isStaleLock(holder: LockHolder): boolean {
  return isStale(holder, (m) => TERMINAL_MIGRATION_STATUSES.has(m.status));
}

/** The active migrations holding any of `units` (read-only; creation checks again atomically). */
export async function lockHolders(store: MigrationStore, units: readonly string[]): Promise<LockHolder[]> {
  const out = new Map<string, LockHolder>();
  const servers = new Map<string, string[]>();
  for (const unit of units) {
    const parsed = parseLockUnit(unit);
    if (!parsed) continue;
    servers.set(parsed.server, [...(servers.get(parsed.server) ?? []), parsed.db]);
  }
  for (const [server, dbs] of servers) {
    for (const [unit, holderId] of await store.locksOf(server)) {
      const db = parseLockUnit(unit)!.db;
      if (!dbs.some((d) => d === EVERY_DB || db === EVERY_DB || d === db)) continue;
      if (!out.has(holderId)) out.set(holderId, await lockHolder(store, unit, holderId));
    }
  }
  return [...out.values()];
}
