// Runs one delivery of a step job: claim the step (step-claim.ts: compare-and-set to running with
// a new fencing epoch), keep its lease alive (step-lease.ts), run the executor with fenced
// checkpoints and throttled progress, then turn how it ended into the result to record
// (step-finish.ts, fenced), which also queues what comes next. Knows nothing about BullMQ: the
// jobs layer maps the RunResult to completing, retrying, delaying or failing the job.
import type { Endpoint } from '../redis/endpoint.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { MeasuredCopy } from './copy-rates.js';
import { classifyError, FencedError, StepAbortedError } from './errors.js';
import { type AuditEvent, workerActor } from './events.js';
import type { Migration, ProgressUpdate, Step, StepRef } from './model.js';
import { ProgressThrottle } from './progress.js';
import type { MigrationService } from './service.js';
import { claimStep } from './step-claim.js';
import {
  defaultAbortState,
  type ExecutorRegistry,
  type StepContext,
  type StepOutcome,
} from './step-executor.js';
import { type Finish, finishRun, noteFenced, type RunResult } from './step-finish.js';
import { keepLease } from './step-lease.js';
import type { StepRunObserver } from './step-observer.js';

export type { RunResult } from './step-finish.js';

export interface RunnerOptions {
  service: MigrationService;
  registry: ExecutorRegistry;
  /**
   * Endpoints (with credentials) of a migration, from this process's config. Undefined when this
   * process does not know them: the step is left to another worker (a `migrate` trial's private
   * workers and a shared fleet can use one control Redis). Throws for a broken config.
   */
  resolveEndpoints(migration: Migration): { source: Endpoint; target: Endpoint } | undefined;
  /** Names this process in events and leases. */
  workerId: string;
  /** How long a claim holds without a heartbeat; match the queue's lock duration. */
  leaseMs: number;
  /** Default: a third of the lease. */
  heartbeatMs?: number;
  /** Minimum time between progress publications (default 1 s). */
  progressIntervalMs?: number;
  logger: Logger;
  /** Told how each claimed run ended (metrics); a throwing observer is logged, never fatal. */
  observer?: StepRunObserver;
}

export interface RunHooks {
  /** The queue's cancellation signal (treated like a shutdown: let go, resume elsewhere). */
  signal?: AbortSignal;
  /** Transient errors on the last attempt fail the step instead of asking for a retry. */
  finalAttempt: boolean;
  /** Told of each published progress update (e.g. to mirror it into the job). */
  onProgress?(update: ProgressUpdate): void | Promise<void>;
}

type StopReason =
  | { kind: 'abort' }
  | { kind: 'shutdown' }
  | { kind: 'cancelled' }
  | { kind: 'fenced' }
  /** The control Redis no longer has the migration: nothing can be recorded, nobody takes over. */
  | { kind: 'lost' };

/** What run() learns about the claimed step, for the observer. */
interface Claimed {
  step?: Step;
  strategy?: string;
  claimedAt?: number;
  data?: Record<string, unknown>;
}

interface ActiveRun {
  migrationId: string;
  stop(reason: StopReason): void;
}

export class StepRunner {
  private readonly active = new Set<ActiveRun>();
  private readonly heartbeatMs: number;
  private closing = false;

  constructor(private readonly options: RunnerOptions) {
    this.heartbeatMs = options.heartbeatMs ?? Math.max(100, Math.floor(options.leaseMs / 3));
  }

  get activeCount(): number {
    return this.active.size;
  }

  /** Stops this process's runs of a migration (the abort's pub/sub message lands here). */
  abortLocal(migrationId: string): number {
    let n = 0;
    for (const run of this.active) {
      if (run.migrationId === migrationId) {
        run.stop({ kind: 'abort' });
        n++;
      }
    }
    return n;
  }

  /** Tells every run to checkpoint and let go, for a graceful shutdown. */
  shutdown(): void {
    this.closing = true;
    for (const run of this.active) run.stop({ kind: 'shutdown' });
  }

  async run(ref: StepRef, hooks: RunHooks): Promise<RunResult> {
    const seen: Claimed = {};
    const result = await this.runOnce(ref, hooks, seen);
    if (seen.step && seen.strategy && seen.claimedAt !== undefined) this.observe(ref, result, seen);
    return result;
  }

  private observe(ref: StepRef, result: RunResult, seen: Claimed): void {
    const step = seen.step!;
    const approvedAt = step.approvedBy?.at(-1)?.at;
    const wait =
      step.attempts === 1 && step.approvalRequestedAt && approvedAt
        ? Date.parse(approvedAt) - Date.parse(step.approvalRequestedAt)
        : undefined;
    try {
      this.options.observer?.stepRun({
        migrationId: ref.migrationId,
        stepId: ref.stepId,
        kind: step.kind,
        strategy: seen.strategy!,
        result,
        durationMs: Date.now() - seen.claimedAt!,
        ...(seen.data ? { data: seen.data } : {}),
        ...(wait !== undefined && Number.isFinite(wait) && wait >= 0 ? { approvalWaitMs: wait } : {}),
      });
    } catch (err) {
      this.options.logger.warn({ err: errorMessage(err) }, 'step observer failed');
    }
  }

  private async runOnce(ref: StepRef, hooks: RunHooks, seen: Claimed): Promise<RunResult> {
    // A delivery that arrives while shutting down goes straight back to the queue.
    if (this.closing) return { kind: 'released', reason: 'shutdown' };
    const before = await this.options.service.get(ref.migrationId);
    if (before && !this.knows(before)) {
      this.options.logger.debug({ migrationId: ref.migrationId }, 'endpoints unknown here; leaving the step');
      return { kind: 'busy', retryInMs: 2000 };
    }
    const claimed = await claimStep(this.options.service, ref, this.options);
    if (claimed.kind !== 'claimed') return claimed;
    const { migration, step, epoch } = claimed;
    Object.assign(seen, { step, strategy: migration.plan.strategy, claimedAt: Date.now() });
    const { service, logger: baseLogger } = this.options;
    const store = service.store;
    const logger = baseLogger.child({ migrationId: ref.migrationId, stepId: ref.stepId, epoch });

    const executor = this.options.registry.get(step.kind, migration.plan.strategy);
    if (!executor) {
      return this.finish(ref, epoch, {
        kind: 'failed',
        error: `no executor for "${step.kind}" steps is installed on worker ${this.options.workerId}`,
      });
    }
    let endpoints: StepContext['endpoints'] | undefined;
    try {
      endpoints = this.options.resolveEndpoints(migration);
    } catch (err) {
      return this.finish(ref, epoch, { kind: 'failed', error: errorMessage(err) });
    }
    if (!endpoints) return this.finish(ref, epoch, { kind: 'released', reason: 'endpoints unknown here' });
    let checkpoint = await store.getCheckpoint(ref.migrationId, ref.stepId);

    const controller = new AbortController();
    let stopReason: StopReason | undefined;
    const stop = (reason: StopReason) => {
      if (stopReason) return;
      stopReason = reason;
      controller.abort(new Error(`step stopped: ${reason.kind}`));
    };
    const activeRun: ActiveRun = { migrationId: ref.migrationId, stop };
    this.active.add(activeRun);
    const onQueueSignal = () => stop({ kind: 'cancelled' });
    if (hooks.signal?.aborted) onQueueSignal();
    hooks.signal?.addEventListener('abort', onQueueSignal, { once: true });

    // The lease: renewed while we run; tells us when we were fenced out or the migration aborted.
    const stopRenewing = keepLease(
      { store, ref, epoch, leaseMs: this.options.leaseMs, heartbeatMs: this.heartbeatMs, logger },
      (loss) => stop({ kind: loss }),
    );

    const progress = new ProgressThrottle(this.options.progressIntervalMs ?? 1000, async (p) => {
      const update: ProgressUpdate = {
        ...p,
        migrationId: ref.migrationId,
        stepId: ref.stepId,
        at: service.iso(),
      };
      if (!(await store.saveProgress(ref.migrationId, ref.stepId, epoch, update))) {
        stop({ kind: 'fenced' });
        return;
      }
      await hooks.onProgress?.(update);
    });

    const ctx: StepContext = {
      migration,
      step,
      endpoints,
      checkpoint,
      signal: controller.signal,
      logger,
      saveCheckpoint: async (cp) => {
        if (stopReason?.kind === 'fenced') throw new FencedError();
        if (!(await store.saveCheckpoint(ref.migrationId, ref.stepId, epoch, cp))) {
          stop({ kind: 'fenced' });
          throw new FencedError();
        }
        checkpoint = cp;
      },
      reportProgress: (p) => progress.report(p),
      audit: async (type, message, data) => {
        if ((await store.lease(ref.migrationId, ref.stepId)).epoch !== epoch) throw new FencedError();
        const event: AuditEvent = service.stepEvent(migration, step, type, this.actor, {
          message,
          ...(data ? { data } : {}),
        });
        await store.append(ref.migrationId, [event]);
      },
    };

    let outcome: StepOutcome | undefined;
    let error: unknown;
    try {
      outcome = await executor.run(ctx);
    } catch (err) {
      error = err;
    } finally {
      stopRenewing();
      hooks.signal?.removeEventListener('abort', onQueueSignal);
      this.active.delete(activeRun);
    }

    const reason = stopReason as StopReason | undefined;
    if (reason?.kind === 'lost') {
      logger.error(
        'the control Redis no longer has this migration (it restarted without its data, or the keys were ' +
          'deleted): the step stopped and nothing was recorded; its follower, if any, puts the source back',
      );
      return { kind: 'fenced' };
    }
    if (reason?.kind === 'fenced' || error instanceof FencedError) {
      await progress.flush(false);
      return this.noteFenced(ref, step);
    }
    await progress.flush(true);

    if (outcome) {
      if (outcome.result) seen.data = outcome.result;
      if (outcome.verdict === 'failed') {
        return this.finish(ref, epoch, {
          kind: 'failed',
          error: outcome.summary,
          summary: outcome.summary,
          ...(outcome.result ? { result: outcome.result } : {}),
        });
      }
      if (outcome.awaitConfirmation && !step.confirmedBy) {
        return this.finish(ref, epoch, { kind: 'confirmation', prompt: outcome.awaitConfirmation });
      }
      const finished = await this.finish(ref, epoch, { kind: 'succeeded', outcome });
      if (finished.kind === 'succeeded' && outcome.copied)
        await this.recordRate(migration, endpoints, outcome.copied);
      return finished;
    }

    const message = errorMessage(error);
    // Why we stopped it decides, not how the executor put it: after a shutdown an executor may
    // well say "stopped part way", but the step is handed over, not aborted.
    if (reason?.kind === 'shutdown' || reason?.kind === 'cancelled') {
      return this.finish(ref, epoch, { kind: 'released', reason: reason.kind });
    }
    if (reason?.kind === 'abort') {
      const state =
        error instanceof StepAbortedError
          ? error.state
          : (executor.abortState?.({ migration, step, checkpoint }) ?? defaultAbortState(step));
      return this.finish(ref, epoch, { kind: 'aborted', state });
    }
    logger.warn({ err: message }, 'step failed');
    if (classifyError(error) === 'transient' && !hooks.finalAttempt) {
      return this.finish(ref, epoch, { kind: 'retry', error: message });
    }
    return this.finish(ref, epoch, { kind: 'failed', error: message });
  }

  /** A copy's measured rate, for later plans; never fails the step that made it. */
  private async recordRate(
    migration: Migration,
    endpoints: StepContext['endpoints'],
    copied: MeasuredCopy,
  ): Promise<void> {
    const { strategy } = migration.plan;
    if (!strategy) return;
    try {
      await this.options.service.copyRates.record(strategy, endpoints, copied, this.options.service.iso());
    } catch (err) {
      this.options.logger.warn({ err: errorMessage(err) }, 'could not record the copy rate');
    }
  }

  /** Whether this process can run the migration's steps (a broken config counts: the step fails). */
  private knows(m: Migration): boolean {
    try {
      return this.options.resolveEndpoints(m) !== undefined;
    } catch {
      return true;
    }
  }

  private get actor(): string {
    return workerActor(this.options.workerId);
  }

  /** Writes how the run ended, if this worker still holds the step. */
  private finish(ref: StepRef, epoch: number, end: Finish): Promise<RunResult> {
    return finishRun(this.options.service, ref, epoch, end, this.options);
  }

  private noteFenced(ref: StepRef, step: Step | undefined): Promise<RunResult> {
    return noteFenced(this.options.service, ref, step, this.options);
  }
}
