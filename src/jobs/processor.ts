// The BullMQ processor for step jobs: hands the delivery to the StepRunner and turns its answer
// into what BullMQ understands (complete, retry with backoff, fail at once, come back later).
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { StepRef } from '../runbook/model.js';
import type { RunResult, StepRunner } from '../runbook/step-runner.js';

export function createStepProcessor(runner: StepRunner) {
  // Three parameters: BullMQ only passes the cancellation signal to processors that declare it.
  return async (job: Job<StepRef>, token: string | undefined, signal?: AbortSignal): Promise<RunResult> => {
    const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const result = await runner.run(job.data, {
      finalAttempt,
      ...(signal ? { signal } : {}),
      onProgress: (update) => job.updateProgress({ ...update }).catch(() => undefined),
    });
    switch (result.kind) {
      case 'busy':
        // Another live worker holds the step: look again when its lease could have run out. If
        // it finishes first, the next look finds the step done and completes quietly.
        await job.moveToDelayed(Date.now() + result.retryInMs + 250, token);
        throw new DelayedError();
      case 'released':
        // Shutdown: back to the queue without using up an attempt; another worker resumes.
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      case 'retry':
        throw new Error(result.error);
      case 'failed':
        throw new UnrecoverableError(result.error);
      default:
        return result;
    }
  };
}
