// Runs shard jobs (shard-queue.ts) in a worker process: each takes its shard (a fencing epoch on
// the shard's record), resumes from the shard's checkpoint, and stops when the migration is
// aborted, its step no longer runs this attempt, another worker took the shard, or this process
// shuts down (then the job goes back to the queue for another worker). The parent job of a flow
// runs here too: it only gathers its children's results.
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { Endpoint } from '../redis/endpoint.js';
import { classifyError } from '../runbook/errors.js';
import { findStep, type Migration } from '../runbook/model.js';
import { ProgressThrottle } from '../runbook/progress.js';
import type { MigrationStore } from '../runbook/store.js';
import type { ShardJobData, ShardResult } from '../strategies/shared/shard-flow.js';
import { runShardTask } from '../strategies/shared/shard-task.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { ShardJobProgress, ShardParentData } from './shard-queue.js';
import { ShardFencedError, type ShardStore } from './shard-store.js';

export interface ShardPoolOptions {
  store: MigrationStore;
  shards: ShardStore;
  resolveEndpoints(migration: Migration): { source: Endpoint; target: Endpoint } | undefined;
  workerId: string;
  /** How often a running shard looks at its migration (abort, step gone, taken over). */
  checkMs: number;
  progressIntervalMs: number;
  logger: Logger;
}

type Stop = 'abort' | 'shutdown' | 'stale' | 'fenced' | 'cancelled';

interface ActiveShard {
  migrationId: string;
  stop(reason: Stop): void;
}

export class ShardPool {
  private readonly active = new Set<ActiveShard>();
  private closing = false;

  constructor(private readonly options: ShardPoolOptions) {}

  get activeCount(): number {
    return this.active.size;
  }

  abortLocal(migrationId: string): number {
    let n = 0;
    for (const run of this.active) {
      if (run.migrationId !== migrationId) continue;
      run.stop('abort');
      n++;
    }
    return n;
  }

  shutdown(): void {
    this.closing = true;
    for (const run of this.active) run.stop('shutdown');
  }

  /** The BullMQ processor (three parameters: BullMQ passes the signal only to those that declare it). */
  readonly process = async (
    job: Job<ShardJobData | ShardParentData>,
    token: string | undefined,
    signal?: AbortSignal,
  ): Promise<ShardResult | ShardResult[]> => {
    if ('parent' in job.data) return Object.values(await job.getChildrenValues<ShardResult>());
    const data = job.data;
    if (this.closing) return this.later(job, token, 0);
    const why = await this.notRunnable(data);
    if (why) throw new UnrecoverableError(why);
    const migration = (await this.options.store.get(data.migrationId))!;
    const endpoints = this.options.resolveEndpoints(migration);
    // Another worker's config knows these endpoints.
    if (!endpoints) return this.later(job, token, 2000);
    const key = { migrationId: data.migrationId, stepId: data.stepId, shard: data.shard.id };
    const done = await this.options.shards.result(key);
    // A Retry runs again only the shards that did not finish (a verify that found differences
    // is looked at again).
    if (done && done.task === data.task && (done.task !== 'verify' || done.identical)) return done;
    const epoch = await this.options.shards.claim(key);
    const log = this.options.logger.child({
      migrationId: data.migrationId,
      stepId: data.stepId,
      shard: data.shard.id,
    });

    const controller = new AbortController();
    let stopped: Stop | undefined;
    const stop = (reason: Stop) => {
      if (stopped) return;
      stopped = reason;
      controller.abort(new Error(`shard stopped: ${reason}`));
    };
    const run: ActiveShard = { migrationId: data.migrationId, stop };
    this.active.add(run);
    const onCancel = () => stop('cancelled');
    if (signal?.aborted) onCancel();
    signal?.addEventListener('abort', onCancel, { once: true });
    const watch = setInterval(() => {
      void this.watch(data, key, epoch).then(
        (s) => s && stop(s),
        () => undefined,
      );
    }, this.options.checkMs);
    const progress = new ProgressThrottle(this.options.progressIntervalMs, (p) =>
      job.updateProgress(p as unknown as Record<string, unknown>).catch(() => undefined),
    );
    try {
      const result = await runShardTask({
        task: data.task,
        params: findStep(migration, data.stepId)!.params,
        endpoints,
        shard: data.shard,
        checkpoint: this.options.shards.checkpointStore(key, epoch),
        signal: controller.signal,
        onProgress: (p) => {
          const update: ShardJobProgress = {
            worker: this.options.workerId,
            scanned: p.scanned,
            copied: p.copied,
            estimatedKeys: p.estimatedKeys,
          };
          progress.report(update as never);
        },
        logger: log,
        worker: this.options.workerId,
      });
      await progress.flush(false);
      // Aborted (or the step moved on) just as the copy finished: not recorded as done.
      if (stopped === 'abort' || stopped === 'stale') {
        throw new UnrecoverableError(`stopped: ${(await this.notRunnable(data)) ?? stopped}`);
      }
      if (!result.complete) {
        if (stopped === 'shutdown' || stopped === 'cancelled') return this.later(job, token, 0);
        const failed = result.keysFailed
          ? `${result.keysFailed} key(s) failed, e.g. ${result.notes[0]?.key}: ${result.notes[0]?.detail}`
          : '';
        throw new UnrecoverableError(
          `stopped part way (${result.keys} keys copied): ${result.incompleteReason ?? (failed || stopped || 'incomplete')}`,
        );
      }
      await this.options.shards.finish(key, epoch, result);
      return result;
    } catch (err) {
      await progress.flush(false);
      if (err instanceof DelayedError || err instanceof UnrecoverableError) throw err;
      if (stopped === 'shutdown' || stopped === 'cancelled') return this.later(job, token, 0);
      if (stopped === 'abort' || stopped === 'stale') {
        throw new UnrecoverableError(`stopped: ${(await this.notRunnable(data)) ?? stopped}`);
      }
      if (stopped === 'fenced' || err instanceof ShardFencedError) {
        // The job runs elsewhere now; this run's end is not recorded (its lock is gone).
        throw new Error(`shard ${data.shard.id} was taken over by another worker`);
      }
      // The step's error names the shard; the job's own reason need not.
      const message = errorMessage(err);
      log.warn({ err: errorMessage(err) }, 'shard job failed');
      if (classifyError(err) === 'transient') throw new Error(message);
      throw new UnrecoverableError(message);
    } finally {
      clearInterval(watch);
      signal?.removeEventListener('abort', onCancel);
      this.active.delete(run);
    }
  };

  /** Back to the queue without using up an attempt (shutdown, or endpoints unknown here). */
  private async later(job: Job, token: string | undefined, ms: number): Promise<never> {
    await job.moveToDelayed(Date.now() + ms, token);
    throw new DelayedError();
  }

  /** Why this shard job must not run (the migration's or step's state), or undefined. */
  private async notRunnable(data: ShardJobData): Promise<string | undefined> {
    const m = await this.options.store.get(data.migrationId);
    if (!m) return 'the migration is gone from the control Redis';
    if (m.abort || m.status === 'aborting' || m.status === 'aborted') return 'the migration was aborted';
    const step = findStep(m, data.stepId);
    if (!step) return `step ${data.stepId} is not in the migration`;
    if (step.attempt !== data.attempt)
      return `step ${data.stepId} runs another attempt now (${step.attempt})`;
    if (step.status !== 'running') return `step ${data.stepId} is ${step.status}, not running`;
    return undefined;
  }

  private async watch(
    data: ShardJobData,
    key: { migrationId: string; stepId: string; shard: string },
    epoch: number,
  ): Promise<Stop | undefined> {
    if ((await this.options.shards.epoch(key)) !== epoch) return 'fenced';
    const why = await this.notRunnable(data);
    if (!why) return undefined;
    return /aborted/.test(why) ? 'abort' : 'stale';
  }
}
