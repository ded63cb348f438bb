// Creating a migration from a plan: the runbook's steps with their hashes and quorums, the
// approval policy frozen into it, and its server locks, in one commit that fails as a whole when
// a server is held. Probing, planning and placing hooks happen before (src/usecases/).
import { randomBytes } from 'node:crypto';
import type { Plan, PlannedStep, PlanOptions } from '../../planner/types.js';
import { UserError } from '../../util/errors.js';
import { type ApprovalPolicy, quorumFor } from '../approval-policy.js';
import { SYSTEM_ACTOR } from '../events.js';
import { LockHeldError } from '../locks.js';
import type { Migration, Step } from '../model.js';
import { stepHash } from '../step-hash.js';
import { isStaleLock, lockHolder } from './server-locks.js';
import type { MigrationTransactions } from './transactions.js';

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

/** Refuses a plan no migration can be made of (checked before anything else is asked). */
export function checkCreatable(plan: Plan): void {
  if (!plan.strategy || plan.blockers.length > 0) {
    const why = plan.blockers.map((b) => b.message).join('; ') || 'no strategy is possible';
    throw new UserError(`cannot create a migration from a blocked plan: ${why}`);
  }
  if (plan.steps.length === 0) throw new UserError('the plan has no steps');
}

/** Commits a new migration under `policy` (already checked against the requester and buddy). */
export async function createMigration(
  tx: MigrationTransactions,
  input: CreateInput,
  policy: ApprovalPolicy,
): Promise<Migration> {
  const plan = input.plan;
  const at = tx.iso();
  const id = input.id ?? newMigrationId(tx.now());
  const steps = runbookSteps(id, plan.steps, at, (p) => quorumFor(p, policy));
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
    tx.event(migration, 'migration_created', input.requester, {
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
    tx.event(migration, 'migration_planned', SYSTEM_ACTOR, {
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
  const res = await tx.store.commit(migration, -1, events, {
    create: true,
    active: true,
    ...(migration.locks ? { lock: migration.locks } : {}),
  });
  if (!res.ok && res.reason === 'locked') {
    const holder = await lockHolder(tx.store, res.unit, res.holderId);
    throw new LockHeldError(holder, isStaleLock(holder));
  }
  if (!res.ok) throw new UserError(`a migration with id ${id} already exists`);
  migration.version = res.version;
  return migration;
}

/** The planned steps as a new runbook's: pending, never run, bound to migration `id` by their hashes. */
export function runbookSteps(
  id: string,
  planned: readonly PlannedStep[],
  at: string,
  quorumOf: (step: PlannedStep) => number,
): Step[] {
  return planned.map((p) => ({
    ...p,
    hash: stepHash(id, p),
    status: 'pending',
    attempt: 1,
    attempts: 0,
    epoch: 0,
    approvals: [],
    quorum: p.needsApproval ? quorumOf(p) : 0,
    updatedAt: at,
  }));
}

/** Short, sortable, never all digits and never with ':' (BullMQ job id rules). */
export function newMigrationId(nowMs: number): string {
  return `m${nowMs.toString(36)}${randomBytes(3).toString('hex')}`;
}
