// The one interface every step of every strategy implements, and the registry the workers use to
// find the executor for a strategy's step kind. Executors are domain code: they never see BullMQ.

import type { StrategyName } from '../planner/types.js';
import type { Endpoint } from '../redis/endpoint.js';
import type { Logger } from '../util/logger.js';
import type { MeasuredCopy } from './copy-rates.js';
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
  /**
   * A whole copy of the keys this step made, measured (not a resumed or partial one): recorded as
   * the strategy's rate between the two servers once the step succeeded, for the next plan's
   * copy-time estimate (copy-rates.ts).
   */
  copied?: MeasuredCopy;
}

export interface StepExecutor {
  run(ctx: StepContext): Promise<StepOutcome>;
  /**
   * What source and target look like when this step is stopped by an abort part way through, for
   * people deciding what to do next. Executors that change things must say.
   */
  abortState?(ctx: Pick<StepContext, 'migration' | 'step' | 'checkpoint'>): string;
}

/**
 * Executors keyed on (strategy, step kind): src/strategies builds one from its table. An executor
 * registered for a kind without a strategy serves every strategy that has none of its own (tests,
 * tools); a strategy's own always wins, whatever the order of registration.
 */
export class ExecutorRegistry {
  private readonly own = new Map<string, StepExecutor>();
  private readonly anyStrategy = new Map<StepKind, StepExecutor>();

  /** For steps of this kind in every strategy without an executor of its own. */
  register(kind: StepKind, executor: StepExecutor): this {
    this.anyStrategy.set(kind, executor);
    return this;
  }

  /** For steps of this kind in migrations of this strategy. */
  registerFor(strategy: StrategyName, kind: StepKind, executor: StepExecutor): this {
    this.own.set(ownKey(strategy, kind), executor);
    return this;
  }

  get(kind: StepKind, strategy?: StrategyName | null): StepExecutor | undefined {
    return (strategy ? this.own.get(ownKey(strategy, kind)) : undefined) ?? this.anyStrategy.get(kind);
  }

  has(kind: StepKind, strategy?: StrategyName | null): boolean {
    return this.get(kind, strategy) !== undefined;
  }

  /** Step kinds some strategy (or every one) can run here. */
  kinds(): StepKind[] {
    const own = [...this.own.keys()].map((k) => k.slice(k.indexOf('/') + 1) as StepKind);
    return [...new Set([...this.anyStrategy.keys(), ...own])];
  }
}

const ownKey = (strategy: StrategyName, kind: StepKind) => `${strategy}/${kind}`;

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
