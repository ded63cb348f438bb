// MigrationService: the only way anything (CLI, Slack, workers) changes a migration. Each action
// reads the migration, decides with pure functions (state machine, approval policy), and commits
// the new version with its audit events in one compare-and-set (service/transactions.ts; this
// class extends it, so the StepRunner commits through the same machinery). The actions live in
// service/, one module per use case; this class resolves who is acting, hands each call to its
// module, and answers the reads.
import { UserError } from '../util/errors.js';
import {
  type ApprovalSettings,
  checkPlanPolicy,
  DEFAULT_APPROVAL_SETTINGS,
  freezePolicy,
  type Identity,
  type Refusal,
} from './approval-policy.js';
import { AuditLog, type EventHandler, type SubscribeOptions, type Subscription } from './audit.js';
import { CopyRates } from './copy-rates.js';
import type { AuditEvent } from './events.js';
import type { LockHolder } from './locks.js';
import type { Migration, ProgressUpdate, Step } from './model.js';
import { type CreateInput, checkCreatable, createMigration } from './service/create.js';
import { approveStep, confirmStep, rejectStep } from './service/decisions.js';
import { type ApproverDirectory, ApproverIdentities } from './service/identities.js';
import { abortMigration, startMigration } from './service/lifecycle.js';
import { recordRefusal } from './service/refusal-trail.js';
import { isStaleLock, lockHolders } from './service/server-locks.js';
import { amendStep, requestApproval, retryStep } from './service/step-requests.js';
import { expireDue, repair } from './service/sweep.js';
import { type ActionResult, MigrationTransactions, type TransactionOptions } from './service/transactions.js';
import { unlockServer } from './service/unlock.js';

export type { CreateInput } from './service/create.js';
export { newMigrationId } from './service/create.js';
export type { ApproverDirectory } from './service/identities.js';
export type { Accepted, ActionResult, Mutation, StepScheduler } from './service/transactions.js';

export interface ServiceOptions extends TransactionOptions {
  settings?: Partial<ApprovalSettings>;
  directory?: ApproverDirectory;
}

export class MigrationService extends MigrationTransactions {
  readonly audit: AuditLog;
  /** How fast each strategy's copies went between two servers (the planner's estimate). */
  readonly copyRates: CopyRates;
  readonly settings: ApprovalSettings;
  private readonly identities: ApproverIdentities;

  constructor(options: ServiceOptions) {
    super(options);
    this.audit = new AuditLog(options.store);
    this.copyRates = new CopyRates(options.store.redis, options.store.prefix);
    this.settings = {
      ...DEFAULT_APPROVAL_SETTINGS,
      ...options.settings,
      approvers: options.settings?.approvers ?? DEFAULT_APPROVAL_SETTINGS.approvers,
    };
    this.identities = new ApproverIdentities(
      options.store,
      this.settings.approvers.groups,
      options.directory,
      options.logger,
    );
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

  // ---- who may act ---------------------------------------------------------------------------

  /**
   * The approver groups among `configured` (by default the config's) that `userId` belongs to.
   * Decisions on a migration resolve the groups of its own fixed policy.
   */
  identify(userId: string, configured?: readonly string[]): Promise<Identity> {
    return this.identities.identify(userId, configured);
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

  // ---- server locks --------------------------------------------------------------------------

  /** The active migrations holding any of `units` (read-only; creation checks again atomically). */
  lockHolders(units: readonly string[]): Promise<LockHolder[]> {
    return lockHolders(this.store, units);
  }

  /** A holder whose migration is gone or ended holds a stale lock. */
  isStaleLock(holder: LockHolder): boolean {
    return isStaleLock(holder);
  }

  /** Clears the stale locks of a server (see service/unlock.ts); only an approver may. */
  async unlock(server: string, userId: string) {
    return unlockServer(this, this.settings, server, await this.identify(userId));
  }

  // ---- creating and running ------------------------------------------------------------------

  async create(input: CreateInput): Promise<Migration> {
    checkCreatable(input.plan);
    // The policy is fixed here: whoever decides later decides by this, whatever their config.
    const policy = freezePolicy(this.settings);
    const refusal = await this.checkPlanPolicy(input.requester, input.buddy, input.plan.steps);
    if (refusal) throw new UserError(refusal.reason);
    return createMigration(this, input, policy);
  }

  /** Starts the runbook: the first step is enqueued, or its approval is requested. Idempotent. */
  async start(id: string, userId: string): Promise<ActionResult> {
    return startMigration(this, id, await this.identities.forMigration(id, userId));
  }

  /** Stops the migration (see service/lifecycle.ts). */
  abort(id: string, userId: string, reason = ''): Promise<ActionResult> {
    return this.decideAs('abort', { id, userId }, (who) => abortMigration(this, id, who, reason));
  }

  // ---- decisions at a step's gate ------------------------------------------------------------

  /** One approval of one exact step version (`seenHash`) by `userId`. */
  approve(id: string, stepId: string, userId: string, seenHash: string): Promise<ActionResult> {
    return this.decideAs('approve', { id, stepId, userId }, (who) =>
      approveStep(this, id, stepId, who, seenHash),
    );
  }

  reject(id: string, stepId: string, userId: string, seenHash: string, reason = ''): Promise<ActionResult> {
    return this.decideAs('reject', { id, stepId, userId }, (who) =>
      rejectStep(this, id, stepId, who, seenHash, reason),
    );
  }

  /** A person confirms the outside action a step asked for (e.g. apps repointed). */
  confirm(id: string, stepId: string, userId: string, seenHash: string, note = ''): Promise<ActionResult> {
    return this.decideAs('confirm', { id, stepId, userId }, (who) =>
      confirmStep(this, id, stepId, who, seenHash, note),
    );
  }

  /** Runs a decision as `userId` (with the groups of the migration's own policy); a refusal goes in the trail. */
  private async decideAs(
    verb: string,
    attempt: { id: string; stepId?: string; userId: string },
    decide: (who: Identity) => Promise<ActionResult>,
  ): Promise<ActionResult> {
    const who = await this.identities.forMigration(attempt.id, attempt.userId);
    return recordRefusal(this, { ...attempt, verb }, await decide(who));
  }

  // ---- requests on one step ------------------------------------------------------------------

  /** Asks again for an approval that expired. */
  async requestApproval(id: string, stepId: string, userId: string): Promise<ActionResult> {
    return requestApproval(this, id, stepId, await this.identities.forMigration(id, userId));
  }

  /** Runs a failed step again (with a fresh job id, and a fresh approval when it is gated). */
  async retryStep(id: string, stepId: string, userId: string): Promise<ActionResult> {
    return retryStep(this, id, stepId, await this.identities.forMigration(id, userId));
  }

  /** Changes a step's parameters before it runs; earlier approvals stop counting. */
  amendStep(id: string, stepId: string, params: Record<string, unknown>, actor: string) {
    return amendStep(this, id, stepId, params, actor);
  }

  // ---- housekeeping (run by the sweeper) -----------------------------------------------------

  /** Expires every approval request past its time. Returns how many expired. */
  expireDue(): Promise<number> {
    return expireDue(this);
  }

  /** Queues every active migration's steps that should be queued now (see service/sweep.ts). */
  repair(): Promise<number> {
    return repair(this);
  }
}
