// When the control Redis loses a migration (it restarted without its data, or the keys were
// deleted), nobody can drive or take over its follower any more: the follower puts the source back
// itself and says so, to its log and to whoever started it (the CLI prints it, Slack posts it in
// the thread), since the audit stream that would have told them is gone too.

import type { Migration } from '../../runbook/model.js';

export interface ControlLost {
  migrationId: string;
  /** The last copy the follower read (its meta says where the Slack thread is). */
  migration: Migration | undefined;
  message: string;
}

/** What happened, what was put back, and what to do next. */
export function controlLostMessage(
  migrationId: string,
  undone: { pausedMs: number | undefined; notifyRestoredTo: string | undefined },
): string {
  const done = [
    'live sync stopped',
    undone.pausedMs !== undefined
      ? `source writes resumed after a ${undone.pausedMs} ms pause`
      : 'source writes were not paused',
    undone.notifyRestoredTo !== undefined
      ? `notify-keyspace-events restored to "${undone.notifyRestoredTo}"`
      : undefined,
  ].filter(Boolean);
  return (
    `the control Redis no longer has migration ${migrationId} (it restarted without its data, ` +
    `or the keys were deleted): ${done.join(', ')}. The target keeps the changes applied until now; ` +
    'it is not cut over. Give the control Redis persistence (appendonly yes), then plan and start the ' +
    'migration again (with --replace, as the target holds keys).'
  );
}
