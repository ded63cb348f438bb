// The machinery every change to a migration goes through: read, decide, compare-and-set, and
// again on a lost race, so two clicks, two processes or a redelivered job make exactly one
// transition. Also the moves every action shares (a step through the state machine, what comes
// next, opening and expiring an approval request) and the audit events they write. The actions
// (create.ts, decisions.ts, control.ts, sweep.ts) and the StepRunner decide; this commits.
import type { Logger } from '../../util/logger.js';
import { sleep } from '../../util/sleep.js';
import { policyOf, quorumFor, type Refusal, refuse } from '../approval-policy.js';
import { approverPhrase } from '../describe.js';
import { type AuditEvent, type AuditEventType, SYSTEM_ACTOR } from '../events.js';
import { lockHeldMessage } from '../locks.js';
import { findStep, type Migration, type Step, type StepRef, TERMINAL_MIGRATION_STATUSES } from '../model.js';
import { currentStep, deriveMigrationStatus, nextStatus, type StepEvent } from '../state-machine.js';
import type { CommitOptions, MigrationStore } from '../store.js';
import { isStaleLock, lockHolder } from './server-locks.js';

/** Puts one run of a step on the work queue. Enqueuing the same ref twice must be harmless. */
export interface StepScheduler {
  enqueue(ref: StepRef): Promise<void>;
}

export interface Accepted<T = undefined> {
  ok: true;
  migration: Migration;
  /** What happened, for people. */
  message: string;
  value: T;
}
export type ActionResult<T = undefined> = Accepted<T> | Refusal;

/** A decided change: the new document, its events, and what to do once it is committed. */
export interface Mutation<T = undefined> {
  ok: true;
  migration: Migration;
  events: AuditEvent[];
  options?: CommitOptions;
  /** Steps to enqueue after the commit. */
  enqueue?: StepRef[];
  message: string;
  value: T;
  /** Commit the change, then report this refusal (e.g. an approval that found the request expired). */
  refusal?: Refusal;
}

export interface TransactionOptions {
  store: MigrationStore;
  /** Without one, decisions are committed but not queued (steps are enqueued by the sweeper). */
  scheduler?: StepScheduler;
  /** Clock (ms), injectable for tests. */
  now?: () => number;
  logger?: Logger;
}

const MAX_CAS_ROUNDS = 200;

export class MigrationTransactions {
  readonly store: MigrationStore;
  readonly now: () => number;
  readonly logger: Logger | undefined;
  private readonly scheduler: StepScheduler | undefined;

  constructor(options: TransactionOptions) {
    this.store = options.store;
    this.scheduler = options.scheduler;
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
  }

  /**
   * Read, decide, compare-and-set; again on a lost race. `decide` gets a private copy of the
   * migration and returns the change (or a refusal). Enqueues run after the commit.
   */
  async mutate<T>(id: string, decide: (m: Migration) => Mutation<T> | Refusal): Promise<ActionResult<T>> {
    for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
      const current = await this.store.get(id);
      if (!current) return refuse('not_found', `there is no migration ${id}`);
      const decision = decide(structuredClone(current));
      if (!decision.ok) return decision;
      if (decision.events.length === 0 && !decision.options && !decision.refusal) {
        // Nothing to write (idempotent repeat): still make sure its work is queued.
        for (const r of decision.enqueue ?? []) await this.enqueue(r);
        return { ok: true, migration: current, message: decision.message, value: decision.value };
      }
      const next = decision.migration;
      const events = decision.events;
      // A migration leaves the active set when it ends, and comes back if a retry reopens it.
      const ended = this.finalize(current, next, events);
      const reopened =
        TERMINAL_MIGRATION_STATUSES.has(current.status) && !TERMINAL_MIGRATION_STATUSES.has(next.status);
      // Its server locks go with it, and are taken again (if still free) when it reopens.
      const locks = next.locks ?? [];
      const options =
        ended || reopened
          ? {
              ...decision.options,
              active: !ended,
              ...(locks.length ? (ended ? { unlock: locks } : { lock: locks }) : {}),
            }
          : decision.options;
      const res = await this.store.commit(next, current.version, events, options);
      if (res.ok) {
        next.version = res.version;
        events.forEach((e, i) => {
          e.id = res.eventIds[i];
        });
        for (const r of decision.enqueue ?? []) await this.enqueue(r);
        if (decision.refusal) return decision.refusal;
        return { ok: true, migration: next, message: decision.message, value: decision.value };
      }
      if (res.reason === 'busy') {
        return { ...refuse('busy', 'another worker holds this step'), retryInMs: res.retryInMs };
      }
      if (res.reason === 'exists') throw new Error(`migration ${id} exists`);
      if (res.reason === 'locked') {
        const holder = await lockHolder(this.store, res.unit, res.holderId);
        return refuse('locked', lockHeldMessage(holder, isStaleLock(holder)));
      }
      // Lost the race: back off a little (more as contention persists) and decide again.
      if (round >= 2) await sleep(Math.random() * Math.min(50, 2 * round));
    }
    throw new Error(`migration ${id}: too much contention, gave up after ${MAX_CAS_ROUNDS} rounds`);
  }

  /** mutate() for an action on one step: refuses when the migration has no such step. */
  mutateStep<T = undefined>(
    id: string,
    stepId: string,
    decide: (m: Migration, step: Step) => Mutation<T> | Refusal,
  ): Promise<ActionResult<T>> {
    return this.mutate(id, (m) => {
      const step = findStep(m, stepId);
      return step ? decide(m, step) : refuse('not_found', `migration ${id} has no step ${stepId}`);
    });
  }

  /** A decision that writes nothing (an idempotent repeat, or nothing due). */
  noChange<T = undefined>(m: Migration, message: string, value?: T): Mutation<T> {
    return { ok: true, migration: m, events: [], message, value: value as T };
  }

  /** Applies a state-machine event to a step, refusing moves the table does not have. */
  move(step: Step, event: StepEvent): void {
    const to = nextStatus(step.status, event);
    if (!to) throw new Error(`step ${step.id}: no transition ${event} from ${step.status}`);
    step.status = to;
    step.updatedAt = this.iso();
  }

  /**
   * What comes after a change: the current step is enqueued when it can run, or its approval is
   * requested; when every step succeeded the migration is done. Mutates `m`, appends events.
   */
  advance(m: Migration, events: AuditEvent[]): StepRef[] {
    if (!m.startedAt || m.abort) return [];
    const cur = currentStep(m.steps);
    if (!cur) return [];
    if (cur.status === 'pending' && cur.needsApproval) {
      this.openApproval(m, cur, SYSTEM_ACTOR, events);
      return [];
    }
    if (cur.status === 'approved' || (cur.status === 'pending' && !cur.needsApproval)) {
      cur.queuedAt = this.iso();
      return [stepRef(m, cur)];
    }
    return [];
  }

  /** Steps of `m` that should be on the queue now. */
  runnable(m: Migration): StepRef[] {
    if (!m.startedAt) return [];
    const out: StepRef[] = [];
    for (const step of m.steps) {
      // A running step with an abort pending is queued too: if its worker died, a new delivery
      // records the abort.
      if (step.status === 'running') out.push(stepRef(m, step));
    }
    if (m.abort) return out;
    const cur = currentStep(m.steps);
    if (cur && (cur.status === 'approved' || (cur.status === 'pending' && !cur.needsApproval))) {
      out.push(stepRef(m, cur));
    }
    return out;
  }

  /** Moves a step to awaiting_approval with a fresh expiry and emits the request. */
  openApproval(m: Migration, step: Step, actor: string, events: AuditEvent[]): void {
    this.move(step, 'request_approval');
    const now = this.now();
    step.gate = 'approval';
    step.approvals = [];
    // Both come from the migration's own policy, never from this process's config.
    const policy = policyOf(m);
    step.quorum ||= quorumFor(step, policy);
    step.approvalRequestedAt = new Date(now).toISOString();
    step.approvalExpiresAt = new Date(now + policy.expiresAfterMs).toISOString();
    events.push(
      this.stepEvent(m, step, 'approval_requested', actor, {
        message:
          `"${step.title}" needs approval from ${approverPhrase(m, step.quorum)}` +
          `${step.irreversible ? ' (irreversible)' : ''}: ${step.description}`,
        data: {
          stepHash: step.hash,
          expiresAt: step.approvalExpiresAt,
          quorum: step.quorum,
          irreversible: step.irreversible,
          params: step.params,
          buddy: m.buddy ?? null,
        },
      }),
    );
  }

  /** Closes an approval request that ran out of time. */
  expire(m: Migration, step: Step): AuditEvent {
    this.move(step, 'expire');
    step.approvals = [];
    return this.stepEvent(m, step, 'approval_expired', SYSTEM_ACTOR, {
      message: `the approval request for "${step.title}" expired without a decision; ask for it again`,
      data: { expiresAt: step.approvalExpiresAt },
    });
  }

  /** A refusal that found the request past its time also records the expiry. */
  withExpiry(m: Migration, step: Step, refusal: Refusal): Mutation | Refusal {
    if (refusal.code !== 'expired' || step.status !== 'awaiting_approval') return refusal;
    const events = [this.expire(m, step)];
    return { ok: true, migration: m, events, message: refusal.reason, value: undefined, refusal };
  }

  event(
    m: Pick<Migration, 'id'>,
    type: AuditEventType,
    actor: string,
    extra: { message: string; data?: Record<string, unknown> },
  ): AuditEvent {
    return { migrationId: m.id, type, at: this.iso(), actor, ...extra };
  }

  stepEvent(
    m: Pick<Migration, 'id'>,
    step: Pick<Step, 'id' | 'kind'>,
    type: AuditEventType,
    actor: string,
    extra: { message: string; data?: Record<string, unknown> },
  ): AuditEvent {
    return { migrationId: m.id, type, at: this.iso(), actor, stepId: step.id, stepKind: step.kind, ...extra };
  }

  iso(): string {
    return new Date(this.now()).toISOString();
  }

  /** Queues a run of a step; a failure is only logged (the commit stands; the sweeper queues it). */
  async enqueue(r: StepRef): Promise<void> {
    if (!this.scheduler) return;
    try {
      await this.scheduler.enqueue(r);
    } catch (err) {
      // The transition is committed; the sweeper's repair() will queue it.
      this.logger?.warn({ ref: r, err: String(err) }, 'could not enqueue step; the sweeper will retry');
    }
  }

  /**
   * Status, timestamps and migration-level events follow from the steps. Returns true when the
   * migration has just ended (it then leaves the active set).
   */
  private finalize(before: Migration, next: Migration, events: AuditEvent[]): boolean {
    const at = this.iso();
    next.updatedAt = at;
    next.status = deriveMigrationStatus(next);
    if (!TERMINAL_MIGRATION_STATUSES.has(next.status)) delete next.finishedAt;
    if (next.status === before.status || !TERMINAL_MIGRATION_STATUSES.has(next.status)) return false;
    next.finishedAt = at;
    const type: Partial<Record<string, AuditEventType>> = {
      succeeded: 'migration_succeeded',
      failed: 'migration_failed',
      rejected: 'migration_rejected',
    };
    const eventType = type[next.status];
    if (eventType) {
      const failed = next.steps.find((s) => s.status === 'failed' || s.status === 'rejected');
      events.push(
        this.event(next, eventType, SYSTEM_ACTOR, {
          message:
            next.status === 'succeeded'
              ? `migration ${next.id} succeeded: ${next.source} -> ${next.target}${writePauseText(next)}`
              : `migration ${next.id} stopped: "${failed?.title}" ${next.status}`,
        }),
      );
    }
    return true;
  }
}

/** A decided gate is closed: its kind, prompt and expiry no longer apply. */
export function clearGate(step: Step): void {
  delete step.gate;
  delete step.gatePrompt;
  delete step.approvalExpiresAt;
}

export function stepRef(m: Migration, step: Step): StepRef {
  return { migrationId: m.id, stepId: step.id, attempt: step.attempt };
}

/** The cutover's write pause as resume_writes measured it on the source, for the closing line. */
function writePauseText(m: Migration): string {
  const resume = m.steps.find((s) => s.kind === 'resume_writes' && s.status === 'succeeded');
  const ms = resume?.result?.pausedMs;
  return typeof ms === 'number' ? `; source writes were paused for ${ms} ms (measured on the source)` : '';
}
