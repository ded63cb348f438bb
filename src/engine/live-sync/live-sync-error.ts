// The one error live sync fails with (drain, stop, onError and waiters all see it), and the bound on
// its waits that fails with it.

import { ExitCode, UserError } from '../../util/errors.js';
import { withTimeout } from '../../util/timeout.js';

export class LiveSyncError extends UserError {
  constructor(
    message: string,
    /** Starting live sync again cannot help (the source is no longer the one being migrated). */
    readonly final = false,
  ) {
    super(message, ExitCode.problem);
    this.name = 'LiveSyncError';
  }
}

/** What a source change leaves behind, said in every such failure. */
export const NOTHING_MORE_APPLIED = 'nothing more was applied to the target; the target keeps what it had';

/** `promise`, or a LiveSyncError after `ms` (no bound when ms is undefined). */
export function withLiveSyncTimeout<T>(
  promise: Promise<T>,
  ms: number | undefined,
  what: string,
): Promise<T> {
  return withTimeout(promise, ms, what, (m) => new LiveSyncError(m));
}
