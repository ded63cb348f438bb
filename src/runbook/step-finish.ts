// Writing how a run of a step ended (succeeded, waits for a person, failed, to be retried, let go,
// aborted), fenced: only the worker still holding the claim's epoch may write it. What the jobs
// layer does with the job follows from the RunResult (complete, retry, delay, fail).
import type { Logger } from '../util/logger.js';
import { refuse } from './approval-policy.js';
import { type AuditEvent, type AuditEventType, workerActor } from './events.js';
import { findStep, type Step, type StepRef } from './model.js';
import type { MigrationTransactions, Mutation } from './service/transactions.js';
import type { StepOutcome } from './step-executor.js';

export type RunResult =
  | { kind: 'succeeded'; summary: string }
  | { kind: 'awaiting_confirmation' }
  | { kind: 'skipped'; reason: string }
  | { kind: 'busy'; retryInMs: number }
  | { kind: 'retry'; error: string }
  | { kind: 'failed'; error: string }
  | { kind: 'aborted'; state: string }
  | { kind: 'released'; reason: string }
  | { kind: 'fenced' };

/** How a run ended, as written to the step. */
export type Finish =
  | { kind: 'succeeded'; outcome: StepOutcome }
  | { kind: 'confirmation'; prompt: string }
  | { kind: 'failed'; error: string; summary?: string; result?: Record<string, unknown> }
  | { kind: 'retry'; error: string }
  | { kind: 'released'; reason: string }
  | { kind: 'aborted'; state: string };

export interface FinishOptions {
  workerId: string;
  logger: Logger;
}

/** Writes how the run ended, if this worker still holds the step. */
export async function finishRun(
  tx: MigrationTransactions,
  ref: StepRef,
  epoch: number,
  end: Finish,
  options: FinishOptions,
): Promise<RunResult> {
  const { workerId } = options;
  const actor = workerActor(workerId);
  const res = await tx.mutate<RunResult>(ref.migrationId, (m) => {
    const step = findStep(m, ref.stepId);
    // Only the holder of this epoch may write the outcome.
    if (!step) return refuse('busy', 'fenced');
    if (step.status !== 'running' || step.epoch !== epoch || step.attempt !== ref.attempt) {
      return refuse('busy', 'fenced');
    }
    const at = tx.iso();
    const events: AuditEvent[] = [];
    const release = { stepId: step.id, epoch };
    const done = (value: RunResult, enqueue: StepRef[] = []): Mutation<RunResult> => ({
      ok: true,
      migration: m,
      events,
      enqueue,
      options: { release },
      message: value.kind,
      value,
    });
    const ev = (type: AuditEventType, message: string, data?: object) =>
      events.push(
        tx.stepEvent(m, step, type, actor, {
          message,
          ...(data ? { data: data as Record<string, unknown> } : {}),
        }),
      );
    const took = step.startedAt ? Date.parse(at) - Date.parse(step.startedAt) : undefined;
    switch (end.kind) {
      case 'succeeded': {
        tx.move(step, 'succeed');
        const { summary, result, verdict } = end.outcome;
        step.summary = summary;
        if (result) step.result = result;
        step.verdict = verdict ?? 'ok';
        step.finishedAt = at;
        delete step.worker;
        delete step.lastError;
        ev('step_succeeded', `"${step.title}" succeeded: ${summary}`, {
          verdict: step.verdict,
          result: result ?? null,
          durationMs: took ?? null,
        });
        return done({ kind: 'succeeded', summary }, tx.advance(m, events));
      }
      case 'confirmation':
        tx.move(step, 'request_confirmation');
        step.gate = 'confirmation';
        step.gatePrompt = end.prompt;
        step.approvalRequestedAt = at;
        delete step.worker;
        ev('confirmation_requested', `"${step.title}" waits for a person: ${end.prompt}`, {
          stepHash: step.hash,
          prompt: end.prompt,
        });
        return done({ kind: 'awaiting_confirmation' });
      case 'failed':
        tx.move(step, 'fail');
        step.error = end.error;
        if (end.summary) step.summary = end.summary;
        if (end.result) step.result = end.result;
        step.verdict = 'failed';
        step.finishedAt = at;
        delete step.worker;
        ev('step_failed', `"${step.title}" failed: ${end.error}`, {
          error: end.error,
          result: end.result ?? null,
        });
        return done({ kind: 'failed', error: end.error });
      case 'retry':
        tx.move(step, 'release');
        step.lastError = end.error;
        delete step.worker;
        ev('step_retrying', `"${step.title}" hit a transient error and will be retried: ${end.error}`, {
          error: end.error,
          execution: step.attempts,
        });
        return done({ kind: 'retry', error: end.error });
      case 'released':
        tx.move(step, 'release');
        delete step.worker;
        ev(
          'note',
          `worker ${workerId} let go of "${step.title}" (${end.reason}); another worker will resume it from its checkpoint`,
        );
        return done({ kind: 'released', reason: end.reason });
      case 'aborted':
        tx.move(step, 'abort');
        step.summary = end.state;
        step.finishedAt = at;
        delete step.worker;
        ev('step_aborted', `"${step.title}" stopped by the abort: ${end.state}`, { state: end.state });
        return done({ kind: 'aborted', state: end.state });
    }
  });
  if (!res.ok) return noteFenced(tx, ref, undefined, options);
  return res.value;
}

/** Leaves a note that this worker lost the step; its own writes were refused. */
export async function noteFenced(
  tx: MigrationTransactions,
  ref: StepRef,
  step: Step | undefined,
  { workerId, logger }: FinishOptions,
): Promise<RunResult> {
  logger.warn(
    { migrationId: ref.migrationId, stepId: ref.stepId },
    'fenced: another worker holds this step; stopping without writing',
  );
  await tx.store
    .append(ref.migrationId, [
      {
        migrationId: ref.migrationId,
        type: 'step_fenced',
        at: tx.iso(),
        actor: workerActor(workerId),
        stepId: ref.stepId,
        ...(step ? { stepKind: step.kind } : {}),
        message: `worker ${workerId} lost ${step ? `"${step.title}"` : `step ${ref.stepId}`} to another worker and stopped; its late writes were refused`,
      },
    ])
    .catch(() => undefined);
  return { kind: 'fenced' };
}
