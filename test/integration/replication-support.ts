// Runs runbook step executors in order against real servers, with an in-memory step context in
// place of the step runner: results and checkpoints are kept per step exactly as the runner keeps
// them, so later steps see earlier results; an abort fires the signal the way the runner does.
import type { Plan } from '../../src/planner/types.js';
import type { Endpoint } from '../../src/redis/endpoint.js';
import type { Migration, Step, StepProgress } from '../../src/runbook/model.js';
import type { ExecutorRegistry, StepContext, StepOutcome } from '../../src/runbook/step-executor.js';
import { createLogger } from '../../src/util/logger.js';

export interface RunRecord {
  outcome?: StepOutcome;
  error?: Error;
  progress: StepProgress[];
}

export interface RunControl {
  /** Abort (as the runner does for a migration abort) once this returns true for a progress update. */
  abortWhen?: (p: StepProgress) => boolean;
  /** Abort after this many ms. */
  abortAfterMs?: number;
  /** Stop as for a worker shutdown. */
  shutdownAfterMs?: number;
  confirmedBy?: string;
  /** Called with every saved checkpoint; 'abort' or 'shutdown' stops the step right after it. */
  onCheckpoint?: (cp: unknown) => 'abort' | 'shutdown' | undefined;
  /** Log lines of the step (default: silent). */
  log?: (line: string) => void;
}

export class RunbookHarness {
  readonly migration: Migration;
  readonly checkpoints = new Map<string, unknown>();
  readonly events: { type: string; message: string; data?: Record<string, unknown> }[] = [];

  constructor(
    plan: Plan,
    readonly endpoints: { source: Endpoint; target: Endpoint },
    readonly registry: ExecutorRegistry,
  ) {
    const now = new Date().toISOString();
    this.migration = {
      id: `m-${Math.random().toString(36).slice(2, 8)}`,
      version: 1,
      source: endpoints.source.name,
      target: endpoints.target.name,
      options: {},
      plan,
      requester: 'UREQ',
      buddy: 'UBUDDY',
      status: 'running',
      createdAt: now,
      updatedAt: now,
      startedAt: now,
      steps: plan.steps.map(
        (s): Step => ({
          ...s,
          hash: 'h',
          status: 'pending',
          attempt: 1,
          attempts: 0,
          epoch: 0,
          approvals: [],
          quorum: 1,
          updatedAt: now,
        }),
      ),
      meta: {},
    };
  }

  step(kindOrId: string): Step {
    const s = this.migration.steps.find((x) => x.id === kindOrId || x.kind === kindOrId);
    if (!s) throw new Error(`no step ${kindOrId}`);
    return s;
  }

  async run(kindOrId: string, control: RunControl = {}): Promise<RunRecord> {
    const step = this.step(kindOrId);
    const registryExecutor = this.registry.get(step.kind, this.migration.plan.strategy);
    if (!registryExecutor) throw new Error(`no executor for ${step.kind}`);
    if (control.confirmedBy) step.confirmedBy = { userId: control.confirmedBy, at: new Date().toISOString() };
    const controller = new AbortController();
    const abort = () => controller.abort(new Error('step stopped: abort'));
    const timers: NodeJS.Timeout[] = [];
    if (control.abortAfterMs !== undefined) timers.push(setTimeout(abort, control.abortAfterMs));
    if (control.shutdownAfterMs !== undefined) {
      timers.push(
        setTimeout(() => controller.abort(new Error('step stopped: shutdown')), control.shutdownAfterMs),
      );
    }
    const progress: StepProgress[] = [];
    step.status = 'running';
    step.attempts++;
    const ctx: StepContext = {
      migration: this.migration,
      step,
      endpoints: this.endpoints,
      checkpoint: this.checkpoints.get(step.id),
      saveCheckpoint: async (cp) => {
        this.checkpoints.set(step.id, JSON.parse(JSON.stringify(cp)));
        const stop = control.onCheckpoint?.(cp);
        if (stop) controller.abort(new Error(`step stopped: ${stop}`));
      },
      reportProgress: (p) => {
        progress.push(p);
        if (control.abortWhen?.(p)) abort();
      },
      signal: controller.signal,
      logger: control.log ? createLogger({ level: 'debug' }, control.log) : createLogger({ level: 'silent' }),
      audit: async (type, message, data) => {
        this.events.push({ type, message, ...(data ? { data } : {}) });
      },
    };
    try {
      const outcome = await registryExecutor.run(ctx);
      if (outcome.verdict === 'failed') step.status = 'failed';
      else if (outcome.awaitConfirmation && !step.confirmedBy) step.status = 'awaiting_approval';
      else {
        step.status = 'succeeded';
        if (outcome.result) step.result = JSON.parse(JSON.stringify(outcome.result));
        step.summary = outcome.summary;
      }
      return { outcome, progress };
    } catch (err) {
      step.status = controller.signal.aborted ? 'aborted' : 'failed';
      return { error: err as Error, progress };
    } finally {
      for (const t of timers) clearTimeout(t);
    }
  }
}
