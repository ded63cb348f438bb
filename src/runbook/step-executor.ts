// The one interface every step of every strategy implements, and the registry the workers use to
// find the executor for a step kind. Executors are domain code: they never see BullMQ.
import type { Endpoint } from '../redis/endpoint.js';
import type { Logger } from '../util/logger.js';
import type { AuditEventType } from './events.js';
import type { Migration, Step, StepKind, StepProgress, Verdict } from './model.js';

export interface StepContext {
  migration: Migration;
  step: Step;
  /** Resolved endpoints with credentials: never print them, use name + redactedUrl. */
  endpoints: { source: Endpoint; target: Endpoint };
  /** The last checkpoint saved for this step (any earlier run, any worker), or undefined. */
  checkpoint: unknown | undefined;
  /**
   * Saves the resume point. Fenced: throws FencedError when another worker has taken the step
   * over, so a worker that stalled and woke up stops instead of writing over the new holder.
   */
  saveCheckpoint(checkpoint: unknown): Promise<void>;
  /** Throttled by the runner: call as often as convenient. */
  reportProgress(progress: StepProgress): void;
  /**
   * Aborted when the migration is aborted, the worker shuts down, or the step was taken over.
   * Stop promptly after saving a checkpoint, then return or throw.
   */
  signal: AbortSignal;
  logger: Logger;
  /** Appends an event (e.g. a verification summary) to the migration's audit trail. */
  audit(type: AuditEventType, message: string, data?: Record<string, unknown>): Promise<void>;
}

export interface StepOutcome {
  /** One or two sentences for people. */
  summary: string;
  /** JSON-safe details kept with the step. */
  result?: Record<string, unknown>;
  /** `failed` fails the step at once (no retries), e.g. verification found differences. */
  verdict?: Verdict;
  /**
   * Ask a person to confirm an outside action before the step counts as done (e.g. "repoint the
   * apps"). The step waits (no job stays active); once confirmed it runs again with
   * `step.confirmedBy` set and should then return normally.
   */
  awaitConfirmation?: string;
}

export interface StepExecutor {
  run(ctx: StepContext): Promise<StepOutcome>;
  /**
   * What source and target look like when this step is stopped by an abort part way through, for
   * people deciding what to do next. Executors that change things must say.
   */
  abortState?(ctx: Pick<StepContext, 'migration' | 'step' | 'checkpoint'>): string;
}

/** Executors keyed by step kind; strategies register theirs. */
export class ExecutorRegistry {
  private readonly executors = new Map<StepKind, StepExecutor>();

  register(kind: StepKind, executor: StepExecutor): this {
    this.executors.set(kind, executor);
    return this;
  }

  get(kind: StepKind): StepExecutor | undefined {
    return this.executors.get(kind);
  }

  has(kind: StepKind): boolean {
    return this.executors.has(kind);
  }

  kinds(): StepKind[] {
    return [...this.executors.keys()];
  }

  /** Step kinds of a migration that nobody can run here. */
  missing(kinds: Iterable<StepKind>): StepKind[] {
    return [...new Set(kinds)].filter((k) => !this.executors.has(k));
  }
}

const READ_ONLY_KINDS: ReadonlySet<StepKind> = new Set([
  'preflight',
  'wait_sync',
  'verify',
  'drain_check',
  'post_verify',
]);

/** What an abort mid-step leaves behind, when the executor does not say. */
export function defaultAbortState(step: Pick<Step, 'kind'>): string {
  if (READ_ONLY_KINDS.has(step.kind))
    return 'this step only reads, so it changed nothing on source or target';
  switch (step.kind) {
    case 'bulk_copy':
      return 'source unchanged; target holds a partial copy (resumable from the checkpoint, or flush it)';
    case 'live_sync':
      return 'source unchanged; target has the keys copied so far and may lag behind the source';
    case 'start_replication':
      return 'target may be replicating from the source; run REPLICAOF NO ONE on it to detach';
    case 'write_pause':
      return 'the abort lifts the write pause on the source (CLIENT PAUSE also ends by itself when not renewed)';
    default:
      return 'the step was stopped part way; check source and target before going on';
  }
}
