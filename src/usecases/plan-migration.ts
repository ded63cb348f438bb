// The use case "plan and create a migration", the one way the CLI (`plan`, `migrate`) and Slack
// (`/migrate plan`) turn two endpoints into a runbook: probe both, plan, place the configured hooks
// (numbered as the run numbers them), check who could approve it, check the server locks, then
// create it with the approval policy fixed into it. What is shown is what runs: the plan printed
// or posted is the plan stored.
import type { HooksConfig } from '../config/schema.js';
import { dbMapping, targetDbsOf } from '../engine/db-mapping.js';
import { placeHooks } from '../hooks/place.js';
import type { MeasuredRates } from '../planner/copy-rate.js';
import { formatPlan } from '../planner/format.js';
import { planMigration } from '../planner/plan.js';
import { renumberSteps } from '../planner/steps/common.js';
import type { Plan, PlanOptions } from '../planner/types.js';
import type { ProbeResult } from '../probe/types.js';
import type { Endpoint } from '../redis/endpoint.js';
import { resolveServer } from '../redis/resolve.js';
import type { ApprovalPolicy, RefusalCode } from '../runbook/approval-policy.js';
import type { ServerPair } from '../runbook/copy-rates.js';
import { gateRule, policySummary } from '../runbook/describe.js';
import { LockHeldError, lockUnits } from '../runbook/locks.js';
import type { Migration } from '../runbook/model.js';
import { type MigrationService, newMigrationId } from '../runbook/service.js';
import { ExitCode, UserError } from '../util/errors.js';

export type Probe = (endpoint: Endpoint, options: { bigKeys: boolean }) => Promise<ProbeResult>;

export interface PlanInput {
  source: Endpoint;
  target: Endpoint;
  options: PlanOptions;
  /** The config's hooks, placed into the runbook at their points. */
  hooks: HooksConfig | undefined;
  /** Sample the source for big keys before planning. */
  bigKeys?: boolean;
  /**
   * The copy rates recorded between these two servers (MigrationService.copyRates): the estimate
   * uses the chosen strategy's. Without it, or when it fails, the plan says it used a default.
   */
  rates?: (pair: ServerPair) => Promise<MeasuredRates>;
}

/** A plan as it will run, with the probes it came from. */
export interface PreparedPlan {
  source: Endpoint;
  target: Endpoint;
  plan: Plan;
  sourceProbe: ProbeResult;
  targetProbe: ProbeResult;
  blocked: boolean;
}

/** A probe failed; `endpoint` says which, `cause` is the error it failed with. */
export class ProbeFailedError extends Error {
  constructor(
    readonly endpoint: Endpoint,
    override readonly cause: unknown,
  ) {
    super(`could not probe ${endpoint.name}`);
    this.name = 'ProbeFailedError';
  }
}

/** Plan-time refusal of who would approve (buddy not an approver, nobody could, ...). */
export class PlanRefusedError extends UserError {
  constructor(
    readonly code: RefusalCode,
    reason: string,
  ) {
    super(reason, ExitCode.problem);
    this.name = 'PlanRefusedError';
  }
}

/**
 * The plan options for which databases are copied where: from the URLs' databases (`/3` selects
 * db 3, mapped onto the target URL's database) or `--db`/`db=` (undefined when not given).
 */
export function planDatabases(
  source: Pick<Endpoint, 'urlDb'>,
  target: Pick<Endpoint, 'urlDb'>,
  dbFlag: 'all' | number[] | undefined,
): Pick<PlanOptions, 'dbs' | 'dbsFromUrl' | 'dbRemap'> {
  const mapping = dbMapping(source, target, dbFlag);
  return {
    dbs: mapping.dbs,
    ...(source.urlDb !== undefined ? { dbsFromUrl: true } : {}),
    ...(mapping.remap ? { dbRemap: mapping.remap } : {}),
  };
}

/** Probe, plan, place hooks and number the steps. Read-only. */
export async function preparePlan(input: PlanInput, probe: Probe): Promise<PreparedPlan> {
  // Both probes run to the end before a failure is reported (no stray connections).
  const [s, t, rates] = await Promise.allSettled([
    probe(input.source, { bigKeys: Boolean(input.bigKeys) }),
    probe(input.target, { bigKeys: false }),
    // A reader that throws at once is settled like one that rejects.
    Promise.resolve().then(() => input.rates?.({ source: input.source, target: input.target }) ?? {}),
  ]);
  if (s.status === 'rejected') throw new ProbeFailedError(input.source, s.reason);
  if (t.status === 'rejected') throw new ProbeFailedError(input.target, t.reason);
  // Rates only refine the estimate: a control Redis that does not answer plans with the defaults.
  const planned = planMigration(
    s.value,
    t.value,
    input.options,
    rates.status === 'fulfilled' ? rates.value : {},
  );
  const steps = renumberSteps(placeHooks(planned.steps, { hooks: input.hooks }));
  const plan: Plan = { ...planned, steps };
  return {
    source: input.source,
    target: input.target,
    plan,
    sourceProbe: s.value,
    targetProbe: t.value,
    blocked: !plan.strategy || plan.blockers.length > 0,
  };
}

/** The server lock units a migration of this plan holds (source and target, resolved). */
export async function locksFor(
  prepared: Pick<PreparedPlan, 'source' | 'target' | 'plan'>,
): Promise<string[]> {
  const { plan } = prepared;
  if (!plan.strategy) return [];
  const [source, target] = await Promise.all([
    resolveServer(prepared.source),
    resolveServer(prepared.target),
  ]);
  const units = [
    ...lockUnits(source, plan.strategy, plan.options.dbs),
    // The target's lock is on the databases written there (another number under a URL remap).
    ...lockUnits(target, plan.strategy, targetDbsOf({ remap: plan.options.dbRemap }, plan.options.dbs)),
  ];
  return [...new Set(units)];
}

export interface CreateRequest {
  requester: string;
  buddy?: string;
  /** Normally generated; an adapter that needs the id before creating (Slack's card) passes it. */
  id?: string;
  /**
   * Called once every check passed, just before the migration is stored; returns adapter meta to
   * store with it (Slack posts the card here so the thread is known from the first event on).
   */
  announce?: (id: string) => Promise<Record<string, string>>;
}

/**
 * Checks who could approve and the locks, then creates the migration (which fixes the approval
 * policy into it and takes the locks atomically). Throws PlanRefusedError, LockHeldError or a
 * UserError for a blocked plan.
 */
export async function createPlannedMigration(
  service: MigrationService,
  prepared: PreparedPlan,
  request: CreateRequest,
): Promise<Migration> {
  const { plan } = prepared;
  if (prepared.blocked) {
    const why = plan.blockers.map((b) => b.message).join('; ') || 'no strategy is possible';
    throw new UserError(`the plan is blocked: ${why}`, ExitCode.problem);
  }
  const refusal = await service.checkPlanPolicy(request.requester, request.buddy, plan.steps);
  if (refusal) throw new PlanRefusedError(refusal.code, refusal.reason);
  const locks = await locksFor(prepared);
  const [holder] = await service.lockHolders(locks);
  if (holder) throw new LockHeldError(holder, service.isStaleLock(holder));
  const id = request.id ?? newMigrationId(service.now());
  const meta = request.announce ? await request.announce(id) : {};
  return service.create({
    id,
    source: prepared.source.name,
    target: prepared.target.name,
    plan,
    requester: request.requester,
    ...(request.buddy ? { buddy: request.buddy } : {}),
    options: plan.options,
    meta,
    locks,
  });
}

/** Plan and create: the whole use case, for callers that need nothing in between. */
export async function planAndCreate(
  service: MigrationService,
  input: PlanInput,
  probe: Probe,
  request: CreateRequest,
): Promise<{ prepared: PreparedPlan; migration?: Migration }> {
  const prepared = await preparePlan(input, probe);
  if (prepared.blocked) return { prepared };
  return { prepared, migration: await createPlannedMigration(service, prepared, request) };
}

/** The plan as text, with who may approve each gated step under `policy` and the policy itself. */
export function describePlan(plan: Plan, policy: ApprovalPolicy, buddy: string | undefined): string {
  return formatPlan(plan, {
    gate: (step) => gateRule(step, policy, buddy),
    footer: policySummary(policy, buddy),
  });
}
