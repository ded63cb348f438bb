// MigrationService: the only way anything (CLI, Slack, workers) changes a migration. Each action
// reads the migration, decides with pure functions (state machine, approval policy), and commits
// the new version with its audit events in one compare-and-set; on a lost race it reads again and
// decides again, so two clicks, two processes or a redelivered job make exactly one transition.
import { randomBytes } from 'node:crypto';
import type { Plan, PlanOptions } from '../planner/types.js';
import { UserError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { sleep } from '../util/sleep.js';
import {
  type ApprovalSettings,
  checkPlanPolicy,
  DEFAULT_APPROVAL_SETTINGS,
  decideAbort,
  decideApproval,
  decideConfirmation,
  decideRejection,
  freezePolicy,
  hasApprovers,
  type Identity,
  isApprover,
  isInvolved,
  policyOf,
  quorumFor,
  type Refusal,
  refuse,
} from './approval-policy.js';
import { AuditLog, type EventHandler, type SubscribeOptions, type Subscription } from './audit.js';
import { approverPhrase, describeState } from './describe.js';
import { type AuditEvent, type AuditEventType, SYSTEM_ACTOR } from './events.js';
import { EVERY_DB, LockHeldError, type LockHolder, lockHeldMessage, parseLockUnit } from './locks.js';
import {
  findStep,
  type Migration,
  type ProgressUpdate,
  type Step,
  type StepRef,
  TERMINAL_MIGRATION_STATUSES,
} from './model.js';
import {
  canTransition,
  currentStep,
  deriveMigrationStatus,
  nextStatus,
  type StepEvent,
} from './state-machine.js';
import { stepHash } from './step-hash.js';
import type { CommitOptions, MigrationStore } from './store.js';

/** Puts one run of a step on the work queue. Enqueuing the same ref twice must be harmless. */
export interface StepScheduler {
  enqueue(ref: StepRef): Promise<void>;
}

/** Resolves approver groups (e.g. Slack user groups) to their members. */
export interface ApproverDirectory {
  membersOf(groupId: string): Promise<readonly string[]>;
}

export interface ServiceOptions {
  store: MigrationStore;
  /** Without one the service can decide but not start work (steps are enqueued by the sweeper). */
  scheduler?: StepScheduler;
  settings?: Partial<ApprovalSettings>;
  directory?: ApproverDirectory;
  /** Clock (ms), injectable for tests. */
  now?: () => number;
  logger?: Logger;
}

export interface CreateInput {
  source: string;
  target: string;
  plan: Plan;
  requester: string;
  buddy?: string;
  options?: Partial<PlanOptions>;
  meta?: Record<string, string>;
  /** Server lock units (locks.ts) the migration holds while active; creation fails if one is held. */
  locks?: readonly string[];
  /** Normally generated. */
  id?: string;
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

const MAX_CAS_ROUNDS = 200;

export class MigrationService {
  readonly store: MigrationStore;
  readonly audit: AuditLog;
  readonly settings: ApprovalSettings;
  private readonly scheduler: StepScheduler | undefined;
  private readonly directory: ApproverDirectory | undefined;
  readonly now: () => number;
  private readonly logger: Logger | undefined;

  constructor(options: ServiceOptions) {
    this.store = options.store;
    this.audit = new AuditLog(options.store);
    this.scheduler = options.scheduler;
    this.directory = options.directory;
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
    this.settings = {
      ...DEFAULT_APPROVAL_SETTINGS,
      ...options.settings,
      approvers: options.settings?.approvers ?? DEFAULT_APPROVAL_SETTINGS.approvers,
    };
  }

  // ---- reading -------------------------------------------------------------------------------

  get(id: string, options: { checkpoints?: boolean } = {}): Promise<Migration | undefined> {
    return this.store.get(id, options);
  }

  list(options: { limit?: number; activeOnly?: boolean } = {}): Promise<Migration[]> {
    return this.store.list(options);
  }

  events(id: string): Promise<AuditEvent[]> {
    return this.audit.list(id);
  }

  progress(id: string): Promise<Record<string, ProgressUpdate>> {
    return this.store.getProgress(id);
  }

  /** Every migration's events through a consumer group (see AuditLog.subscribe). */
  subscribeEvents(handler: EventHandler, options: SubscribeOptions): Promise<Subscription> {
    return this.audit.subscribe(handler, options);
  }

  /** One migration's events in order, from the start or after `afterId`. */
  tailEvents(id: string, handler: EventHandler, options: { afterId?: string } = {}): Subscription {
    return this.audit.tail(id, handler, options);
  }

  /** Progress of running steps as published (at a bounded rate) by workers. */
  async subscribeProgress(handler: (update: ProgressUpdate) => void): Promise<Subscription> {
    const sub = this.store.redis.duplicate();
    sub.on('error', () => {});
    sub.on('message', (_channel: string, message: string) => {
      try {
        handler(JSON.parse(message) as ProgressUpdate);
      } catch (err) {
        this.logger?.warn({ err: String(err) }, 'progress handler failed');
      }
    });
    await sub.subscribe(this.store.progressChannel);
    return {
      async close() {
        sub.disconnect();
      },
    };
  }

  /**
   * The approver groups among `configured` (by default the config's) that `userId` belongs to.
   * Decisions on a migration resolve the groups of its own fixed policy (identifyFor).
   */
  async identify(
    userId: string,
    configured: readonly string[] = this.settings.approvers.groups,
  ): Promise<Identity> {
    const groups: string[] = [];
    if (configured.length > 0 && !this.directory) {
      this.logger?.warn('approver groups are configured but no directory resolves them');
    }
    if (this.directory) {
      for (const group of configured) {
        try {
          if ((await this.directory.membersOf(group)).includes(userId)) groups.push(group);
        } catch (err) {
          this.logger?.warn({ group, err: String(err) }, 'could not resolve approver group');
        }
      }
    }
    return { userId, groups };
  }

  /** `userId` with the groups of migration `id`'s own approval policy. */
  private async identifyFor(id: string, userId: string): Promise<Identity> {
    const m = await this.store.get(id);
    return this.identify(userId, m ? policyOf(m).approvers.groups : []);
  }

  /**
   * Whether a migration planned by `requester` with `buddy` could be approved under the policy a
   * new migration gets now (the config's): refused at plan time rather than at the first click.
   */
  async checkPlanPolicy(
    requester: string,
    buddy: string | undefined,
    steps: readonly { kind: Step['kind']; title: string; needsApproval: boolean }[],
  ): Promise<Refusal | null> {
    const buddyIdentity = buddy ? await this.identify(buddy) : undefined;
    return checkPlanPolicy(
      this.settings,
      requester,
      buddyIdentity,
      steps.filter((s) => s.needsApproval),
    );
  }

  /** The active migrations holding any of `units` (read-only; creation checks again atomically). */
  async lockHolders(units: readonly string[]): Promise<LockHolder[]> {
    const out = new Map<string, LockHolder>();
    const servers = new Map<string, string[]>();
    for (const unit of units) {
      const parsed = parseLockUnit(unit);
      if (!parsed) continue;
      servers.set(parsed.server, [...(servers.get(parsed.server) ?? []), parsed.db]);
    }
    for (const [server, dbs] of servers) {
      for (const [unit, holderId] of await this.store.locksOf(server)) {
        const db = parseLockUnit(unit)!.db;
        if (!dbs.some((d) => d === EVERY_DB || db === EVERY_DB || d === db)) continue;
        if (!out.has(holderId)) out.set(holderId, await this.holder(unit, holderId));
      }
    }
    return [...out.values()];
  }

  private async holder(unit: string, migrationId: string): Promise<LockHolder> {
    const migration = await this.store.get(migrationId);
    return { unit, migrationId, ...(migration ? { migration } : {}) };
  }

  /** A holder whose migration is gone or ended holds a stale lock. */
  isStaleLock(holder: LockHolder): boolean {
    return !holder.migration || TERMINAL_MIGRATION_STATUSES.has(holder.migration.status);
  }

  /**
   * Clears the stale locks of a server ("10.0.0.5:6379"): those whose migration is gone or ended.
   * Only an approver may (when approvers are configured); a lock of an active migration is never
   * cleared here: abort that migration instead. Each clearing is recorded in the holder's audit trail.
   */
  async unlock(
    server: string,
    userId: string,
  ): Promise<{ ok: true; message: string; cleared: string[] } | Refusal> {
    const who = await this.identify(userId);
    if (hasApprovers(this.settings) && !isApprover(this.settings, who)) {
      return refuse('not_approver', 'only a configured approver can clear a server lock');
    }
    const held = [...(await this.store.locksOf(server))];
    if (held.length === 0) {
      return refuse('not_found', `no migration holds a lock on ${server}; nothing to clear`);
    }
    const cleared: string[] = [];
    const active: string[] = [];
    for (const [unit, holderId] of held) {
      const holder = await this.holder(unit, holderId);
      if (!this.isStaleLock(holder)) {
        active.push(`${holderId} (${holder.migration!.status})`);
        continue;
      }
      if (!(await this.store.clearLock(unit, holderId))) continue;
      cleared.push(unit);
      await this.store.append(holderId, [
        {
          migrationId: holderId,
          type: 'lock_cleared',
          at: this.iso(),
          actor: userId,
          message: `${userId} cleared the stale lock ${unit} of migration ${holderId} (${holder.migration ? `it had ended: ${holder.migration.status}` : 'it no longer exists'})`,
          data: { unit, holderId },
        },
      ]);
    }
    if (cleared.length === 0) {
      return refuse(
        'locked',
        `${server} is held by active migration ${active.join(', ')}; a lock of an active migration is ` +
          'not cleared: abort that migration if it must stop',
      );
    }
    const message =
      `cleared ${cleared.join(', ')}` +
      (active.length > 0 ? `; still held by active migration ${active.join(', ')}` : '');
    return { ok: true, message, cleared };
  }

  // ---- creating and starting -----------------------------------------------------------------

  async create(input: CreateInput): Promise<Migration> {
    const plan = input.plan;
    if (!plan.strategy || plan.blockers.length > 0) {
      const why = plan.blockers.map((b) => b.message).join('; ') || 'no strategy is possible';
      throw new UserError(`cannot create a migration from a blocked plan: ${why}`);
    }
    if (plan.steps.length === 0) throw new UserError('the plan has no steps');
    // The policy is fixed here: whoever decides later decides by this, whatever their config.
    const policy = freezePolicy(this.settings);
    const refusal = await this.checkPlanPolicy(input.requester, input.buddy, plan.steps);
    if (refusal) throw new UserError(refusal.reason);
    const at = this.iso();
    const id = input.id ?? newMigrationId(this.now());
    const steps: Step[] = plan.steps.map((p) => ({
      ...p,
      hash: stepHash(id, p),
      status: 'pending',
      attempt: 1,
      attempts: 0,
      epoch: 0,
      approvals: [],
      quorum: p.needsApproval ? quorumFor(p, policy) : 0,
      updatedAt: at,
    }));
    const migration: Migration = {
      id,
      version: 0,
      source: input.source,
      target: input.target,
      options: input.options ?? plan.options,
      plan,
      requester: input.requester,
      ...(input.buddy ? { buddy: input.buddy } : {}),
      policy,
      ...(input.locks?.length ? { locks: [...input.locks] } : {}),
      status: 'created',
      createdAt: at,
      updatedAt: at,
      steps,
      meta: input.meta ?? {},
    };
    const gated = steps.filter((s) => s.needsApproval).length;
    const events = [
      this.event(migration, 'migration_created', input.requester, {
        message:
          `${input.requester} created migration ${id}: ${input.source} -> ${input.target}` +
          (input.buddy ? `, buddy ${input.buddy}` : ''),
        data: {
          source: input.source,
          target: input.target,
          buddy: input.buddy ?? null,
          policy,
          locks: migration.locks ?? [],
        },
      }),
      this.event(migration, 'migration_planned', SYSTEM_ACTOR, {
        message:
          `plan: ${plan.strategy}, ${steps.length} steps (${gated} need approval)` +
          (plan.warnings.length ? `; warnings: ${plan.warnings.map((w) => w.message).join('; ')}` : ''),
        data: {
          strategy: plan.strategy,
          copyMode: plan.copyMode,
          steps: steps.map((s) => ({
            id: s.id,
            kind: s.kind,
            title: s.title,
            needsApproval: s.needsApproval,
          })),
          warnings: plan.warnings,
          estimates: plan.estimates,
          ruledOut: plan.assessments.filter((a) => !a.viable),
        },
      }),
    ];
    const res = await this.store.commit(migration, -1, events, {
      create: true,
      active: true,
      ...(migration.locks ? { lock: migration.locks } : {}),
    });
    if (!res.ok && res.reason === 'locked') {
      const holder = await this.holder(res.unit, res.holderId);
      throw new LockHeldError(holder, this.isStaleLock(holder));
    }
    if (!res.ok) throw new UserError(`a migration with id ${id} already exists`);
    migration.version = res.version;
    return migration;
  }

  /** Starts the runbook: the first step is enqueued, or its approval is requested. Idempotent. */
  async start(id: string, userId: string): Promise<ActionResult> {
    const who = await this.identifyFor(id, userId);
    return this.mutate(id, (m) => {
      if (!isInvolved(m, who)) {
        return refuse(
          'not_involved',
          'only the requester, the buddy or an approver can start this migration',
        );
      }
      if (m.abort) return refuse('aborted', `this migration was aborted by ${m.abort.userId}`);
      if (m.startedAt) return this.noChange(m, 'the migration is already running');
      m.startedAt = this.iso();
      const events = [
        this.event(m, 'migration_started', userId, { message: `${userId} started the migration` }),
      ];
      const enqueue = this.advance(m, events);
      return { ok: true, migration: m, events, enqueue, message: 'migration started', value: undefined };
    });
  }

  // ---- decisions -----------------------------------------------------------------------------

  /** One approval of one exact step version (`seenHash`) by `userId`. */
  async approve(id: string, stepId: string, userId: string, seenHash: string): Promise<ActionResult> {
    const who = await this.identifyFor(id, userId);
    const result = await this.mutate(id, (m) => {
      const step = findStep(m, stepId);
      if (!step) return refuse('not_found', `migration ${id} has no step ${stepId}`);
      const decision = decideApproval({
        migration: m,
        step,
        who,
        stepHash: seenHash,
        nowMs: this.now(),
      });
      if (!decision.ok) return this.withExpiry(m, step, decision);
      const events: AuditEvent[] = [];
      let enqueue: StepRef[] = [];
      step.approvals = decision.approvals;
      if (!decision.complete) {
        events.push(
          this.stepEvent(m, step, 'approval_recorded', userId, {
            message: `${userId} approved "${step.title}" (${decision.approvals.length} of ${decision.quorum})`,
            data: { stepHash: step.hash },
          }),
        );
      } else {
        this.move(step, 'approve');
        step.approvedBy = decision.approvals.map((a) => ({ userId: a.userId, at: a.at }));
        clearGate(step);
        events.push(
          this.stepEvent(m, step, 'step_approved', userId, {
            message: `${decision.approvals.map((a) => a.userId).join(' and ')} approved "${step.title}"`,
            data: { stepHash: step.hash, approvers: decision.approvals.map((a) => a.userId) },
          }),
        );
        enqueue = this.advance(m, events);
      }
      return {
        ok: true,
        migration: m,
        events,
        enqueue,
        message: decision.complete
          ? `approved "${step.title}"`
          : `approval recorded; ${decision.needed} more needed for "${step.title}"`,
        value: undefined,
      };
    });
    return this.noteRefusal(id, stepId, userId, 'approve', result);
  }

  async reject(
    id: string,
    stepId: string,
    userId: string,
    seenHash: string,
    reason = '',
  ): Promise<ActionResult> {
    const who = await this.identifyFor(id, userId);
    const result = await this.mutate(id, (m) => {
      const step = findStep(m, stepId);
      if (!step) return refuse('not_found', `migration ${id} has no step ${stepId}`);
      const decision = decideRejection({
        migration: m,
        step,
        who,
        stepHash: seenHash,
        nowMs: this.now(),
      });
      if (!decision.ok) return this.withExpiry(m, step, decision);
      this.move(step, 'reject');
      step.rejectedBy = { userId, at: this.iso(), ...(reason ? { reason } : {}) };
      clearGate(step);
      const events = [
        this.stepEvent(m, step, 'step_rejected', userId, {
          message: `${userId} rejected "${step.title}"${reason ? `: ${reason}` : ''}`,
          data: { reason },
        }),
      ];
      return { ok: true, migration: m, events, message: `rejected "${step.title}"`, value: undefined };
    });
    return this.noteRefusal(id, stepId, userId, 'reject', result);
  }

  /** A person confirms the outside action a step asked for (e.g. apps repointed). */
  async confirm(
    id: string,
    stepId: string,
    userId: string,
    seenHash: string,
    note = '',
  ): Promise<ActionResult> {
    const who = await this.identifyFor(id, userId);
    const result = await this.mutate(id, (m) => {
      const step = findStep(m, stepId);
      if (!step) return refuse('not_found', `migration ${id} has no step ${stepId}`);
      const decision = decideConfirmation({
        migration: m,
        step,
        who,
        stepHash: seenHash,
        nowMs: this.now(),
      });
      if (!decision.ok) return decision;
      this.move(step, 'confirm');
      step.confirmedBy = { userId, at: this.iso(), ...(note ? { reason: note } : {}) };
      clearGate(step);
      const events = [
        this.stepEvent(m, step, 'step_confirmed', userId, {
          message: `${userId} confirmed "${step.title}"${note ? `: ${note}` : ''}`,
        }),
      ];
      const enqueue = this.advance(m, events);
      return {
        ok: true,
        migration: m,
        events,
        enqueue,
        message: `confirmed "${step.title}"`,
        value: undefined,
      };
    });
    return this.noteRefusal(id, stepId, userId, 'confirm', result);
  }

  /**
   * Stops the migration: steps not yet running will never run, a running step is told to stop
   * (abort flag + pub/sub; its worker records what it left behind).
   */
  async abort(id: string, userId: string, reason = ''): Promise<ActionResult> {
    const who = await this.identifyFor(id, userId);
    const result = await this.mutate(id, (m) => {
      const refusal = decideAbort(m, who);
      if (refusal) return refusal;
      const at = this.iso();
      m.abort = { userId, at, ...(reason ? { reason } : {}) };
      for (const step of m.steps) {
        if (step.status !== 'running' && canTransition(step.status, 'abort')) {
          this.move(step, 'abort');
          clearGate(step);
          step.finishedAt ??= at;
        }
      }
      const state = describeState(m);
      const events = [
        this.event(m, 'migration_aborted', userId, {
          message: `${userId} aborted the migration${reason ? ` (${reason})` : ''}. ${state}`,
          data: { reason, state },
        }),
      ];
      return {
        ok: true,
        migration: m,
        events,
        options: { abort: { userId, at } },
        message: `aborted. ${state}`,
        value: undefined,
      };
    });
    return this.noteRefusal(id, undefined, userId, 'abort', result);
  }

  /** Asks again for an approval that expired. */
  async requestApproval(id: string, stepId: string, userId: string): Promise<ActionResult> {
    const who = await this.identifyFor(id, userId);
    return this.mutate(id, (m) => {
      const step = findStep(m, stepId);
      if (!step) return refuse('not_found', `migration ${id} has no step ${stepId}`);
      if (!isInvolved(m, who) && userId !== SYSTEM_ACTOR) {
        return refuse('not_involved', 'only the requester, the buddy or an approver can ask for approvals');
      }
      if (m.abort) return refuse('aborted', `this migration was aborted by ${m.abort.userId}`);
      if (step.status !== 'expired') {
        return refuse('not_awaiting', `"${step.title}" is ${step.status.replace('_', ' ')}, not expired`);
      }
      const events: AuditEvent[] = [];
      this.openApproval(m, step, userId, events);
      return {
        ok: true,
        migration: m,
        events,
        message: `approval requested for "${step.title}"`,
        value: undefined,
      };
    });
  }

  /** Runs a failed step again (with a fresh job id, and a fresh approval when it is gated). */
  async retryStep(id: string, stepId: string, userId: string): Promise<ActionResult> {
    const who = await this.identifyFor(id, userId);
    return this.mutate(id, (m) => {
      const step = findStep(m, stepId);
      if (!step) return refuse('not_found', `migration ${id} has no step ${stepId}`);
      if (!isInvolved(m, who)) {
        return refuse('not_involved', 'only the requester, the buddy or an approver can retry steps');
      }
      if (m.abort) return refuse('aborted', `this migration was aborted by ${m.abort.userId}`);
      if (step.status !== 'failed') return refuse('not_failed', `"${step.title}" has not failed`);
      this.move(step, 'retry');
      step.attempt += 1;
      step.approvals = [];
      delete step.error;
      delete step.finishedAt;
      delete step.approvedBy;
      const events = [
        this.stepEvent(m, step, 'step_retry_requested', userId, {
          message: `${userId} asked to run "${step.title}" again (run ${step.attempt})`,
        }),
      ];
      const enqueue = this.advance(m, events);
      return {
        ok: true,
        migration: m,
        events,
        enqueue,
        message: `"${step.title}" will run again`,
        value: undefined,
      };
    });
  }

  /**
   * Changes a step's parameters before it runs (e.g. preflight found something new). Earlier
   * approvals stop counting; an open request is made again for the new version.
   */
  async amendStep(id: string, stepId: string, params: Record<string, unknown>, actor: string) {
    return this.mutate(id, (m) => {
      const step = findStep(m, stepId);
      if (!step) return refuse('not_found', `migration ${id} has no step ${stepId}`);
      if (!['pending', 'awaiting_approval', 'expired', 'failed'].includes(step.status)) {
        return refuse('not_awaiting', `"${step.title}" is ${step.status}; it can no longer be changed`);
      }
      const before = step.hash;
      step.params = params;
      step.hash = stepHash(m.id, step);
      if (step.hash === before) return this.noChange(m, 'no change');
      step.approvals = [];
      const events = [
        this.stepEvent(m, step, 'step_amended', actor, {
          message: `"${step.title}" changed; earlier approvals no longer count`,
          data: { previousHash: before, stepHash: step.hash, params },
        }),
      ];
      if (step.status === 'awaiting_approval' && (step.gate ?? 'approval') === 'approval') {
        step.status = 'expired'; // re-open below with a new hash and expiry
        this.openApproval(m, step, actor, events);
      }
      return { ok: true, migration: m, events, message: `amended "${step.title}"`, value: undefined };
    });
  }

  // ---- housekeeping (run by the sweeper) -----------------------------------------------------

  /** Expires every approval request past its time. Returns how many expired. */
  async expireDue(): Promise<number> {
    let expired = 0;
    for (const m of await this.store.list({ activeOnly: true })) {
      for (const step of m.steps) {
        if (step.status !== 'awaiting_approval' || !step.approvalExpiresAt) continue;
        if (Date.parse(step.approvalExpiresAt) > this.now()) continue;
        const res = await this.mutate<boolean>(m.id, (cur) => {
          const s = findStep(cur, step.id)!;
          if (s.status !== 'awaiting_approval' || !s.approvalExpiresAt)
            return this.noChange(cur, 'not open', false);
          if (Date.parse(s.approvalExpiresAt) > this.now()) return this.noChange(cur, 'not due', false);
          const events = [this.expire(cur, s)];
          return { ok: true, migration: cur, events, message: 'expired', value: true };
        });
        if (res.ok && res.value) expired += 1;
      }
    }
    return expired;
  }

  /**
   * Makes sure every active migration's current step is queued when it should be (a process
   * may have died between a commit and its enqueue). Enqueuing is idempotent.
   */
  async repair(): Promise<number> {
    let queued = 0;
    for (const m of await this.store.list({ activeOnly: true })) {
      if (TERMINAL_MIGRATION_STATUSES.has(m.status)) continue;
      const refs = this.runnable(m);
      for (const ref of refs) await this.enqueue(ref);
      queued += refs.length;
    }
    return queued;
  }

  /** Steps of `m` that should be on the queue now. */
  runnable(m: Migration): StepRef[] {
    if (!m.startedAt) return [];
    const out: StepRef[] = [];
    for (const step of m.steps) {
      // A running step with an abort pending is queued too: if its worker died, a new delivery
      // records the abort.
      if (step.status === 'running') out.push(ref(m, step));
    }
    if (m.abort) return out;
    const cur = currentStep(m.steps);
    if (cur && (cur.status === 'approved' || (cur.status === 'pending' && !cur.needsApproval))) {
      out.push(ref(m, cur));
    }
    return out;
  }

  // ---- the machinery -------------------------------------------------------------------------

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
        const holder = await this.holder(res.unit, res.holderId);
        return refuse('locked', lockHeldMessage(holder, this.isStaleLock(holder)));
      }
      // Lost the race: back off a little (more as contention persists) and decide again.
      if (round >= 2) await sleep(Math.random() * Math.min(50, 2 * round));
    }
    throw new Error(`migration ${id}: too much contention, gave up after ${MAX_CAS_ROUNDS} rounds`);
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
      return [ref(m, cur)];
    }
    return [];
  }

  /** Moves a step to awaiting_approval with a fresh expiry and emits the request. */
  private openApproval(m: Migration, step: Step, actor: string, events: AuditEvent[]): void {
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

  private expire(m: Migration, step: Step): AuditEvent {
    this.move(step, 'expire');
    step.approvals = [];
    return this.stepEvent(m, step, 'approval_expired', SYSTEM_ACTOR, {
      message: `the approval request for "${step.title}" expired without a decision; ask for it again`,
      data: { expiresAt: step.approvalExpiresAt },
    });
  }

  /** A refusal that found the request past its time also records the expiry. */
  private withExpiry(m: Migration, step: Step, refusal: Refusal): Mutation | Refusal {
    if (refusal.code !== 'expired' || step.status !== 'awaiting_approval') return refusal;
    const events = [this.expire(m, step)];
    return { ok: true, migration: m, events, message: refusal.reason, value: undefined, refusal };
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

  private noChange<T = undefined>(m: Migration, message: string, value?: T): Mutation<T> {
    return { ok: true, migration: m, events: [], message, value: value as T };
  }

  private async noteRefusal<T>(
    id: string,
    stepId: string | undefined,
    userId: string,
    verb: string,
    result: ActionResult<T>,
  ): Promise<ActionResult<T>> {
    if (result.ok) return result;
    if (result.code !== 'not_found' && result.code !== 'busy') {
      // Once per person, step, action and reason: a hundred clicks are one refusal in the trail.
      const dedupe = [stepId ?? '-', userId, verb, result.code].join('|');
      await this.store
        .appendOnce(id, dedupe, {
          migrationId: id,
          type: 'approval_refused',
          at: this.iso(),
          actor: userId,
          ...(stepId ? { stepId } : {}),
          message: `${userId} could not ${verb}: ${result.reason}`,
          data: { code: result.code, action: verb },
        })
        .catch((err) =>
          // The person still gets the refusal; only its line in the trail is missing.
          this.logger?.warn(
            { migrationId: id, err: String(err) },
            'could not record a refusal in the audit trail',
          ),
        );
    }
    return result;
  }

  private async enqueue(r: StepRef): Promise<void> {
    if (!this.scheduler) return;
    try {
      await this.scheduler.enqueue(r);
    } catch (err) {
      // The transition is committed; the sweeper's repair() will queue it.
      this.logger?.warn({ ref: r, err: String(err) }, 'could not enqueue step; the sweeper will retry');
    }
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
}

function clearGate(step: Step): void {
  delete step.gate;
  delete step.gatePrompt;
  delete step.approvalExpiresAt;
}

function ref(m: Migration, step: Step): StepRef {
  return { migrationId: m.id, stepId: step.id, attempt: step.attempt };
}

/** Short, sortable, never all digits and never with ':' (BullMQ job id rules). */
export function newMigrationId(nowMs: number): string {
  return `m${nowMs.toString(36)}${randomBytes(3).toString('hex')}`;
}

/** The cutover's write pause as resume_writes measured it on the source, for the closing line. */
function writePauseText(m: Migration): string {
  const resume = m.steps.find((s) => s.kind === 'resume_writes' && s.status === 'succeeded');
  const ms = resume?.result?.pausedMs;
  return typeof ms === 'number' ? `; source writes were paused for ${ms} ms (measured on the source)` : '';
}
