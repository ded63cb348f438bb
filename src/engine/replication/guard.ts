// Shared plumbing of the replication executors: a session per run, errors mapped for the runner,
// and the abort path (detach + restore) for every step that runs while the target replicates.
import { StepAbortedError, UnrecoverableStepError } from '../../runbook/errors.js';
import type { StepContext, StepOutcome } from '../../runbook/step-executor.js';
import { describeDetach, detachAndRestore, stoppedByAbort } from './abort.js';
import { rememberedOriginals, startRecord } from './records.js';
import { LinkSession } from './session.js';
import { type Originals, SettingsError } from './settings.js';

/** Thrown by wait loops when the step's signal fires; the guard turns it into the right outcome. */
export class StepStopped extends Error {
  constructor() {
    super('step stopped');
    this.name = 'StepStopped';
  }
}

export function throwIfStopped(signal: AbortSignal): void {
  if (signal.aborted) throw new StepStopped();
}

export interface GuardOptions {
  /** Settings to restore on abort (default: what the migration's steps remember). */
  originals?: () => Originals;
  /** The address REPLICAOF was sent with (default: the start step's record). */
  replicaOf?: () => { host: string; port: number } | undefined;
}

/**
 * Runs a step body with a session. An abort (during the body, or noticed right after it) detaches
 * the target and restores its settings, then reports that as the state the abort left. Any other
 * stop (shutdown, takeover) just ends the run: another worker continues from the checkpoint.
 */
export async function runGuarded(
  ctx: StepContext,
  body: (session: LinkSession) => Promise<StepOutcome>,
  options: GuardOptions = {},
): Promise<StepOutcome> {
  const session = await LinkSession.open(ctx.endpoints, `replication:${ctx.step.kind}`, {
    sourceRequired: false,
  });
  try {
    let outcome: StepOutcome | undefined;
    let error: unknown;
    try {
      outcome = await body(session);
    } catch (err) {
      error = err;
    }
    if (stoppedByAbort(ctx.signal)) {
      const originals = options.originals?.() ?? rememberedOriginals(ctx.migration);
      const replicaOf = options.replicaOf?.() ?? startRecord(ctx.migration)?.replicaOf;
      const result = await detachAndRestore(session.target, originals, replicaOf);
      throw new StepAbortedError(describeDetach(result));
    }
    if (error instanceof SettingsError) throw new UnrecoverableStepError(error.message);
    if (error instanceof StepStopped)
      throw new StepAbortedError('stopped part way; nothing was left half done');
    if (error) throw error;
    return outcome!;
  } finally {
    await session.close();
  }
}
