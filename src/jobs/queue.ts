// The step queue: one BullMQ job per run of a step, with a deterministic id.
import { Queue } from 'bullmq';
import type { Endpoint } from '../redis/endpoint.js';
import type { StepRef } from '../runbook/model.js';
import type { StepScheduler } from '../runbook/service.js';
import { bullConnection } from './connection.js';
import { stepJobId } from './job-ids.js';
import type { JobTiming } from './timing.js';

export const STEPS_QUEUE = 'mb-steps';
export const MAINTENANCE_QUEUE = 'mb-maintenance';

/** BullMQ key prefix under the runbook's own prefix, so one control Redis can host several setups. */
export function bullPrefix(prefix: string): string {
  return `${prefix}:bull`;
}

export class StepQueue implements StepScheduler {
  readonly queue: Queue<StepRef>;

  constructor(
    endpoint: Endpoint,
    private readonly timing: Pick<JobTiming, 'attempts' | 'backoffMs'>,
    prefix = 'mb',
  ) {
    this.queue = new Queue<StepRef>(STEPS_QUEUE, {
      connection: bullConnection(endpoint, 'queue'),
      prefix: bullPrefix(prefix),
    });
    this.queue.on('error', () => {});
  }

  /**
   * Adds the job for this run unless it is already waiting, delayed or active. A finished job with
   * the same id (a run that waited for a confirmation, or one failed by BullMQ itself) is replaced:
   * the step's own compare-and-set decides whether the new delivery does anything.
   */
  async enqueue(ref: StepRef): Promise<void> {
    const jobId = stepJobId(ref);
    const data: StepRef = { migrationId: ref.migrationId, stepId: ref.stepId, attempt: ref.attempt };
    const opts = {
      jobId,
      attempts: this.timing.attempts,
      backoff: { type: 'exponential' as const, delay: this.timing.backoffMs },
      removeOnComplete: { age: 7 * 86_400, count: 10_000 },
      removeOnFail: { age: 30 * 86_400 },
    };
    await this.queue.add('step', data, opts);
    const state = await this.queue.getJobState(jobId);
    if (state === 'completed' || state === 'failed') {
      try {
        await this.queue.remove(jobId);
      } catch {
        // Locked or already replaced by a concurrent enqueue: either way a job exists.
      }
      await this.queue.add('step', data, opts);
    }
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
