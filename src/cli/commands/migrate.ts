import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { buildExecutorRegistry } from '../../jobs/executors.js';
import { type Runtime, startWorkers, type WorkerPool } from '../../jobs/runtime.js';
import { describeEndpoint } from '../../redis/endpoint.js';
import { hasApprovers } from '../../runbook/approval-policy.js';
import { formatEvent } from '../../runbook/audit.js';
import type { AuditEvent } from '../../runbook/events.js';
import { LockHeldError } from '../../runbook/locks.js';
import { type Migration, TERMINAL_MIGRATION_STATUSES } from '../../runbook/model.js';
import { approvalSettingsFromConfig } from '../../runbook/settings.js';
import { rootOf } from '../../runbook/thread-ref.js';
import { createPlannedMigration, describePlan } from '../../usecases/plan-migration.js';
import { ExitCode, UserError } from '../../util/errors.js';
import { scrubDeep } from '../../util/secrets.js';
import { sleep } from '../../util/sleep.js';
import { action, addGlobalOptions, type CliContext } from '../context.js';
import { addPlanOptions, type PlanCliOptions, planOptionsFromCli } from '../options/plan-options.js';
import { prepareCliPlan } from '../prepare-plan.js';
import { addProgressOption, type ProgressMode } from '../progress.js';
import { shardProgressLine, shardProgressPrinter } from '../shard-progress.js';
import { openCliRuntime } from './worker.js';

interface MigrateCliOptions extends PlanCliOptions {
  as: string;
  buddy?: string;
  approveAs: string[];
  confirmAs?: string;
  progress?: ProgressMode;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerMigrateCommand(program: Command): void {
  const cmd = program
    .command('migrate')
    .summary('run a migration from the terminal (trials without Slack)')
    .description(
      'Probes both endpoints, plans, records the migration on the control Redis and runs its steps with ' +
        'workers in this process, printing every audit event. At each approval gate it asks on the ' +
        'terminal for the approver, or approves as --approve-as (scripts); outside actions (repointing the ' +
        'apps) are confirmed on the terminal, or as --confirm-as. Ctrl-C aborts the migration (and lifts a ' +
        'write pause on the source).',
    )
    .argument('<source>', 'endpoint to migrate from: a name from the config file, or a redis:// URL')
    .argument('<target>', 'endpoint to migrate to: a name from the config file, or a redis:// URL')
    .requiredOption('--as <user>', 'who requests the migration (a Slack user id, e.g. U0123ABCD)')
    .option('--buddy <user>', 'the one person who approves its steps')
    .option(
      '--approve-as <user>',
      'approve every gate as this user without asking, and confirm outside actions (repoint) as ' +
        '--confirm-as (repeat for a quorum of several approvers)',
      collect,
      [],
    )
    .option(
      '--confirm-as <user>',
      'with --approve-as: who confirms outside actions such as "the apps were repointed" (default: the ' +
        'requester, --as)',
    );
  addPlanOptions(cmd);
  addProgressOption(cmd);
  addGlobalOptions(cmd);
  cmd.action(action(runMigrate));
}

async function runMigrate(
  ctx: CliContext,
  sourceName: string,
  targetName: string,
  opts: MigrateCliOptions,
): Promise<number> {
  if (opts.confirmAs && opts.approveAs.length === 0)
    throw new UserError(
      '--confirm-as goes with --approve-as (without it, confirmations are asked on the terminal)',
    );
  const source = ctx.endpoint(sourceName);
  const target = ctx.endpoint(targetName);
  const options = planOptionsFromCli(ctx, source, target, opts);
  // The plan-and-create use case: what is printed here is what runs, hooks included.
  const prepared = await prepareCliPlan(source, target, options, ctx.config);
  const { plan } = prepared;
  const policy = approvalSettingsFromConfig(ctx.config);
  let buddy = opts.buddy;
  if (!buddy && opts.approveAs.length > 0 && !hasApprovers(policy)) {
    // No approvers configured: the scripted approver is the buddy, so the two-person rule holds.
    buddy = opts.approveAs[0];
    ctx.note(`no approvers configured: ${buddy} is the buddy of this migration`);
  }
  if (prepared.blocked) {
    if (ctx.json) ctx.printJson({ plan, error: 'the plan is blocked' });
    else ctx.print(describePlan(plan, policy, buddy));
    return ExitCode.problem;
  }
  if (!ctx.json) ctx.print(describePlan(plan, policy, buddy));
  const rt = await openCliRuntime(ctx);
  let pool: WorkerPool | undefined;
  let following: ReturnType<typeof follow> | undefined;
  let final: Migration | undefined;
  try {
    const migration = await createPlannedMigration(rt.service, prepared, {
      requester: opts.as,
      ...(buddy ? { buddy } : {}),
    }).catch((err: unknown) => {
      const thread = err instanceof LockHeldError && err.holder.migration && rootOf(err.holder.migration);
      if (thread)
        ctx.note(
          `the migration holding it has its Slack thread in channel ${thread.channel} (message ${thread.ts})`,
        );
      throw err;
    });
    ctx.note(
      `migration ${migration.id}: ${describeEndpoint(source)} -> ${describeEndpoint(target)} ` +
        `(audit trail: migration-buddy audit ${migration.id})`,
    );
    // These workers only take this migration's steps: other migrations on the same control Redis
    // may use endpoints this process does not know.
    pool = await startWorkers(rt, {
      registry: buildExecutorRegistry(ctx.config, rt),
      resolveEndpoints: (m) => (m.id === migration.id ? { source, target } : undefined),
      concurrency: 1,
      // The audit trail went with the control Redis: the terminal is where this is told.
      onControlLost: (lost) => ctx.note(lost.message),
    });
    following = follow(ctx, rt, migration, opts);
    const started = await rt.service.start(migration.id, opts.as);
    if (!started.ok) throw new UserError(started.reason);
    final = await following.ended;
    // Gone from the control Redis: this process's follower is the only one that can put the source
    // back (no worker can take a lost run over), so it is told so before the workers stop, rather
    // than handed over (a hand-over leaves the pause to lapse by itself).
    if (following.lost) pool.followers.migrationLost(migration.id);
    return final?.status === 'succeeded' ? ExitCode.ok : ExitCode.problem;
  } finally {
    // The follower puts the source back as the workers stop (its events are still printed); the
    // migration has ended, so nothing is worth waiting long for.
    await pool?.close(SHUTDOWN_AFTER_END_MS);
    await following?.close();
    await rt.close();
    // --json: one document at the end, with every event this run saw (an error thrown after it
    // goes to stderr).
    if (ctx.json && following)
      ctx.printJson({
        migration: following.migration.id,
        status: final?.status ?? 'lost',
        events: following.events,
      });
  }
}

/** Bound of the workers' stop once the migration has ended (the CLI exits within seconds). */
const SHUTDOWN_AFTER_END_MS = 5000;

/**
 * Prints events as they come and answers gates; `ended` resolves with the migration once it has
 * ended (undefined when the control Redis lost it). `close` prints what came after, then stops.
 */
function follow(ctx: CliContext, rt: Runtime, migration: Migration, opts: MigrateCliOptions) {
  const { service } = rt;
  const interactive = opts.approveAs.length === 0 && Boolean(process.stdin.isTTY);
  const rl = interactive ? createInterface({ input: process.stdin, output: process.stderr }) : undefined;
  let interrupted = 0;
  const onSigint = () => {
    interrupted++;
    if (interrupted === 1) {
      ctx.note('interrupted: aborting the migration (Ctrl-C again to leave without waiting)');
      void service.abort(migration.id, opts.as, 'interrupted on the terminal');
    } else {
      process.exit(ExitCode.problem);
    }
  };
  process.on('SIGINT', onSigint);
  // While a prompt is open, readline takes Ctrl-C for itself.
  rl?.on('SIGINT', onSigint);
  let lastPrinted: string | undefined;
  const events: AuditEvent[] = [];
  // With --json the events go into the final document; as they come, they are progress (stderr).
  const progress = opts.progress ?? 'auto';
  const print = (e: AuditEvent) => {
    if (!ctx.json) ctx.print(formatEvent(e));
    else {
      events.push(e);
      if (progress === 'json') process.stderr.write(`${JSON.stringify(scrubDeep(e))}\n`);
      else if (progress === 'bar' || (progress === 'auto' && process.stderr.isTTY)) ctx.note(formatEvent(e));
    }
    lastPrinted = e.id;
  };
  // A cluster's bulk copy and verify: a line per update (bounded) with each shard's part.
  const showProgress =
    progress === 'json' || progress === 'bar' || (progress === 'auto' && (!ctx.json || process.stderr.isTTY));
  const printShards = shardProgressPrinter((u) => {
    if (progress === 'json') process.stderr.write(`${JSON.stringify(scrubDeep(u))}\n`);
    else ctx.note(shardProgressLine(u)!);
  });
  const shardProgress = showProgress
    ? service.subscribeProgress((u) => {
        if (u.migrationId === migration.id) printShards(u);
      })
    : undefined;
  shardProgress?.catch(() => undefined);
  const tail = service.tailEvents(migration.id, async (e) => {
    print(e);
    if (e.type === 'approval_requested' && e.stepId) await decide(e);
    if (e.type === 'confirmation_requested' && e.stepId) await confirm(e);
  });

  async function decide(e: AuditEvent) {
    const hash = String(e.data?.stepHash ?? '');
    const stepId = e.stepId!;
    if (!interactive) {
      if (opts.approveAs.length === 0) {
        ctx.note(`waiting for someone to approve ${stepId} (in Slack, or another process)`);
        return;
      }
      for (const user of opts.approveAs) {
        const res = await service.approve(migration.id, stepId, user, hash);
        if (!res.ok) ctx.note(`${user} cannot approve: ${res.reason}`);
        if (res.ok && res.migration.steps.find((s) => s.id === stepId)?.status !== 'awaiting_approval')
          return;
      }
      return;
    }
    for (;;) {
      const answer = (
        await rl!.question(
          `approve ${stepId}? type the approver's user id, "reject", or Enter to leave it to someone else: `,
        )
      ).trim();
      if (answer === '') return;
      const res =
        answer === 'reject'
          ? await service.reject(
              migration.id,
              stepId,
              (await rl!.question('your user id: ')).trim(),
              hash,
              (await rl!.question('reason: ')).trim(),
            )
          : await service.approve(migration.id, stepId, answer, hash);
      if (!res.ok) {
        ctx.note(`refused: ${res.reason}`);
        continue;
      }
      const step = res.migration.steps.find((s) => s.id === stepId);
      if (step?.status !== 'awaiting_approval') return;
      ctx.note(res.message);
    }
  }

  async function confirm(e: AuditEvent) {
    const hash = String(e.data?.stepHash ?? '');
    if (interactive) {
      const answer = await rl!.question(`${String(e.data?.prompt ?? 'confirm')}: type "done" when it is: `);
      if (answer.trim().toLowerCase() !== 'done') return;
    } else if (opts.approveAs.length === 0) {
      ctx.note(`waiting for someone to confirm ${e.stepId}`);
      return;
    }
    const by = interactive ? opts.as : (opts.confirmAs ?? opts.as);
    const res = await service.confirm(migration.id, e.stepId!, by, hash);
    if (!res.ok) ctx.note(`${by} cannot confirm: ${res.reason}`);
  }

  /** Lets the tail print the last events (bounded). */
  async function printRest() {
    const lastId = (await service.events(migration.id).catch(() => [])).at(-1)?.id;
    const deadline = Date.now() + 2000;
    while (lastId && lastPrinted !== lastId && Date.now() < deadline) {
      await sleep(50);
    }
  }

  let closed = false;
  let lost = false;
  const ended = (async (): Promise<Migration | undefined> => {
    try {
      while (!closed) {
        const cur = await service.get(migration.id);
        if (!cur) {
          lost = true;
          ctx.note(
            `the control Redis no longer has migration ${migration.id}: it restarted without its data ` +
              '(give it persistence: appendonly yes) or its keys were deleted; stopping',
          );
          return undefined;
        }
        if (TERMINAL_MIGRATION_STATUSES.has(cur.status)) {
          await printRest();
          return cur;
        }
        await sleep(200);
      }
      return undefined;
    } finally {
      process.off('SIGINT', onSigint);
      rl?.close();
    }
  })();
  // Not awaited when the start was refused: its end must not become an unhandled rejection.
  ended.catch(() => undefined);
  return {
    migration,
    events,
    ended,
    /** `ended` resolved because the control Redis no longer has the migration. */
    get lost() {
      return lost;
    },
    async close() {
      closed = true;
      await printRest();
      await tail.close();
      await (await shardProgress?.catch(() => undefined))?.close();
    },
  };
}
