// Runs one delivery of a step job: claim the step (compare-and-set to running with a new fencing
// epoch), keep a lease alive, run the executor with fenced checkpoints and throttled progress,
// then record the result (fenced) and queue what comes next. Knows nothing about BullMQ: the
// jobs layer maps the RunResult to completing, retrying, delaying or failing the job.
import type { Endpoint } from '../redis/endpoint.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { refuse } from './approval-policy.js';
import { classifyError, FencedError, StepAbortedError } from './errors.js';
import type { AuditEvent } from './events.js';
import { findStep, type Migration, type ProgressUpdate, type Step, type StepRef } from './model.js';
import { ProgressThrottle } from './progress.js';
import type { MigrationService, Mutation } from './service.js';
import { currentStep } from './state-machine.js';
import {
  defaultAbortState,
  type ExecutorRegistry,
  type StepContext,
  type StepOutcome,
} from './step-executor.js';

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
}

export interface RunHooks {
  /** The queue's cancellation signal (treated like a shutdown: let go, resume elsewhere). */
  signal?: AbortSignal;
  /** Transient errors on the last attempt fail the step instead of asking for a retry. */
  finalAttempt: boolean;
  /** Told of each published progress update (e.g. to mirror it into the job). */
  onProgress?(update: ProgressUpdate): void | Promise<void>;
}

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

type StopReason =
  | { kind: 'abort' }
  | { kind: 'shutdown' }
  | { kind: 'cancelled' }
  | { kind: 'fenced' }
  /** The control Redis no longer has the migration: nothing can be recorded, nobody takes over. */
  | { kind: 'lost' };

interface ActiveRun {
  migrationId: string;
  stop(reason: StopReason): void;
}

type Claimed = { kind: 'claimed'; migration: Migration; step: Step; epoch: number };

/** How a run ended, as written to the step. */
type Finish =
  | { kind: 'succeeded'; outcome: StepOutcome }
  | { kind: 'confirmation'; prompt: string }
  | { kind: 'failed'; error: string; summary?: string; result?: Record<string, unknown> }
  | { kind: 'retry'; error: string }
  | { kind: 'released'; reason: string }
  | { kind: 'aborted'; state: string };

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
    // A delivery that arrives while shutting down goes straight back to the queue.
    if (this.closing) return { kind: 'released', reason: 'shutdown' };
    const before = await this.options.service.get(ref.migrationId);
    if (before && !this.knows(before)) {
      this.options.logger.debug({ migrationId: ref.migrationId }, 'endpoints unknown here; leaving the step');
      return { kind: 'busy', retryInMs: 2000 };
    }
    const claimed = await this.claim(ref);
    if (claimed.kind !== 'claimed') return claimed;
    const { migration, step, epoch } = claimed;
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
    let lastBeat = Date.now();
    let beating = false;
    const heartbeat = setInterval(() => {
      // A renewal queued on a control Redis that is down waits for the reconnect: one at a time,
      // and being out of touch for a whole lease is noticed without its answer.
      if (beating) {
        if (Date.now() - lastBeat > this.options.leaseMs) stop({ kind: 'fenced' });
        return;
      }
      beating = true;
      store
        .heartbeat(ref.migrationId, ref.stepId, epoch, this.options.leaseMs)
        .then(
          (res) => {
            lastBeat = Date.now();
            if (res === 'lost') stop({ kind: 'lost' });
            else if (res === 'fenced') stop({ kind: 'fenced' });
            else if (res === 'aborted') stop({ kind: 'abort' });
          },
          (err) => {
            logger.warn({ err: errorMessage(err) }, 'lease renewal failed');
            // Out of touch for a whole lease: assume another worker may hold the step by now.
            if (Date.now() - lastBeat > this.options.leaseMs) stop({ kind: 'fenced' });
          },
        )
        .finally(() => {
          beating = false;
        });
    }, this.heartbeatMs);

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
      clearInterval(heartbeat);
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
      return this.finish(ref, epoch, { kind: 'succeeded', outcome });
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

  /** Whether this process can run the migration's steps (a broken config counts: the step fails). */
  private knows(m: Migration): boolean {
    try {
      return this.options.resolveEndpoints(m) !== undefined;
    } catch {
      return true;
    }
  }

  private get actor(): string {
    return `worker:${this.options.workerId}`;
  }

  /** Takes the step if this delivery may run it now; otherwise says why not. */
  private async claim(ref: StepRef): Promise<Claimed | RunResult> {
    const { service, leaseMs, workerId } = this.options;
    const skip = (m: Migration, reason: string, enqueue: StepRef[] = []): Mutation<RunResult> => ({
      ok: true,
      migration: m,
      events: [],
      enqueue,
      message: reason,
      value: { kind: 'skipped', reason },
    });
    const res = await service.mutate<RunResult | Claimed>(ref.migrationId, (m) => {
      const step = findStep(m, ref.stepId);
      if (!step) return skip(m, `migration has no step ${ref.stepId}`);
      if (step.attempt !== ref.attempt) {
        return skip(m, `stale delivery of run ${ref.attempt}; the step is on run ${step.attempt}`);
      }
      const running = step.status === 'running';
      const claim = {
        stepId: step.id,
        epoch: step.epoch,
        leaseMs,
        owner: workerId,
        requireExpired: running,
      };
      if (m.abort) {
        if (!running) return skip(m, 'the migration was aborted');
        // Its worker went silent (the script checks the lease): record the abort ourselves. The
        // claim raises the epoch, so a late write from that worker is refused.
        const state = defaultAbortState(step);
        service.move(step, 'abort');
        step.summary = state;
        step.finishedAt = service.iso();
        step.epoch += 1;
        delete step.worker;
        const events = [
          service.stepEvent(m, step, 'step_aborted', this.actor, {
            message: `"${step.title}" stopped by the abort: ${state}`,
            data: { state },
          }),
        ];
        return {
          ok: true,
          migration: m,
          events,
          options: { claim },
          message: 'aborted',
          value: { kind: 'aborted', state },
        };
      }
      if (step.status === 'succeeded') {
        // A redelivery after the result was written: make sure what follows is queued.
        return skip(m, 'the step already succeeded', service.runnable(m));
      }
      const isCurrent = currentStep(m.steps)?.id === step.id;
      const claimable =
        step.status === 'approved' ||
        running ||
        (step.status === 'pending' && !step.needsApproval && isCurrent && Boolean(m.startedAt));
      if (!claimable) return skip(m, `the step is ${step.status.replace('_', ' ')}`);
      if (!running) service.move(step, 'claim');
      step.epoch += 1;
      step.attempts += 1;
      step.startedAt ??= service.iso();
      step.worker = workerId;
      step.updatedAt = service.iso();
      // Taking over a running step (stall, shutdown hand-over, retry after a transient error)
      // continues from the checkpoint; a claim from approved/pending is a fresh start.
      const again = step.attempts > 1 ? ` again (execution ${step.attempts})` : '';
      const events = [
        service.stepEvent(m, step, running ? 'step_resumed' : 'step_started', this.actor, {
          message: running
            ? `worker ${workerId} resumed "${step.title}" from its last checkpoint (execution ${step.attempts})`
            : `worker ${workerId} started "${step.title}"${again}`,
          data: { epoch: step.epoch, execution: step.attempts, takeover: running },
        }),
      ];
      return {
        ok: true,
        migration: m,
        events,
        options: { claim },
        message: 'claimed',
        value: { kind: 'claimed', migration: m, step, epoch: step.epoch },
      };
    });
    if (!res.ok) {
      if (res.code === 'busy') return { kind: 'busy', retryInMs: res.retryInMs ?? this.options.leaseMs };
      return { kind: 'skipped', reason: res.reason };
    }
    if (res.value.kind === 'claimed') {
      const step = findStep(res.migration, ref.stepId)!;
      return { kind: 'claimed', migration: res.migration, step, epoch: step.epoch };
    }
    return res.value;
  }

  /** Writes how the run ended, if this worker still holds the step. */
  private async finish(ref: StepRef, epoch: number, end: Finish): Promise<RunResult> {
    const { service } = this.options;
    const res = await service.mutate<RunResult>(ref.migrationId, (m) => {
      const step = findStep(m, ref.stepId);
      // Only the holder of this epoch may write the outcome.
      if (!step) return refuse('busy', 'fenced');
      if (step.status !== 'running' || step.epoch !== epoch || step.attempt !== ref.attempt) {
        return refuse('busy', 'fenced');
      }
      const at = service.iso();
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
      const ev = (type: Parameters<MigrationService['stepEvent']>[2], message: string, data?: object) =>
        events.push(
          service.stepEvent(m, step, type, this.actor, {
            message,
            ...(data ? { data: data as Record<string, unknown> } : {}),
          }),
        );
      const took = step.startedAt ? Date.parse(at) - Date.parse(step.startedAt) : undefined;
      switch (end.kind) {
        case 'succeeded': {
          service.move(step, 'succeed');
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
          return done({ kind: 'succeeded', summary }, service.advance(m, events));
        }
        case 'confirmation':
          service.move(step, 'request_confirmation');
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
          service.move(step, 'fail');
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
          service.move(step, 'release');
          step.lastError = end.error;
          delete step.worker;
          ev('step_retrying', `"${step.title}" hit a transient error and will be retried: ${end.error}`, {
            error: end.error,
            execution: step.attempts,
          });
          return done({ kind: 'retry', error: end.error });
        case 'released':
          service.move(step, 'release');
          delete step.worker;
          ev(
            'note',
            `worker ${this.options.workerId} let go of "${step.title}" (${end.reason}); another worker will resume it from its checkpoint`,
          );
          return done({ kind: 'released', reason: end.reason });
        case 'aborted':
          service.move(step, 'abort');
          step.summary = end.state;
          step.finishedAt = at;
          delete step.worker;
          ev('step_aborted', `"${step.title}" stopped by the abort: ${end.state}`, { state: end.state });
          return done({ kind: 'aborted', state: end.state });
      }
    });
    if (!res.ok) return this.noteFenced(ref, undefined);
    return res.value;
  }

  /** Leaves a note that this worker lost the step; its own writes were refused. */
  private async noteFenced(ref: StepRef, step: Step | undefined): Promise<RunResult> {
    const { service, workerId } = this.options;
    this.options.logger.warn(
      { migrationId: ref.migrationId, stepId: ref.stepId },
      'fenced: another worker holds this step; stopping without writing',
    );
    await service.store
      .append(ref.migrationId, [
        {
          migrationId: ref.migrationId,
          type: 'step_fenced',
          at: service.iso(),
          actor: this.actor,
          stepId: ref.stepId,
          ...(step ? { stepKind: step.kind } : {}),
          message: `worker ${workerId} lost ${step ? `"${step.title}"` : `step ${ref.stepId}`} to another worker and stopped; its late writes were refused`,
        },
      ])
      .catch(() => undefined);
    return { kind: 'fenced' };
  }
}
