// Shared plumbing of the replication executors: a session per run, errors mapped for the runner,
// and the abort path (detach + restore) for every step that runs while the target replicates.

import { clientInfo, IdentityGuard, ServerChangedError } from '../../engine/identity/index.js';
import { describeEndpoint } from '../../redis/endpoint.js';
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

const SOURCE_CHANGED_CONSEQUENCE =
  'the target was not promoted, and while it replicates it takes whatever the source holds now: abort the ' +
  'migration to detach it (REPLICAOF NO ONE) and keep what it has';

/**
 * The source must still be the server start_replication attached the target to (role and run id;
 * a flush is replicated like any write, so key counts tell nothing here). Throws an unrecoverable
 * error saying what changed; a no-op without a recorded identity or a source connection.
 */
export async function checkSourceIdentity(
  ctx: StepContext,
  session: LinkSession,
  when: string,
): Promise<void> {
  const baseline = startRecord(ctx.migration)?.sourceIdentity;
  if (!baseline || !session.source) return;
  const guard = new IdentityGuard({
    side: 'source',
    where: describeEndpoint(ctx.endpoints.source),
    baseline,
  });
  try {
    await guard.check(clientInfo(session.source), when, SOURCE_CHANGED_CONSEQUENCE, false);
  } catch (err) {
    if (err instanceof ServerChangedError) throw new UnrecoverableStepError(err.message);
    throw err;
  }
}

/**
 * Runs a step body with a session, between two checks of the source's identity (a step never
 * succeeds on a source that changed). An abort (during the body, or noticed right after it) detaches
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
      await checkSourceIdentity(ctx, session, `before "${ctx.step.title}"`);
      outcome = await body(session);
      await checkSourceIdentity(ctx, session, `during "${ctx.step.title}"`);
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
