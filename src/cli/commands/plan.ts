import { type Command, InvalidArgumentError } from 'commander';
import { approvalSettingsFromConfig } from '../../runbook/settings.js';
import { describePlan } from '../../usecases/plan-migration.js';
import { ExitCode } from '../../util/errors.js';
import { action, addGlobalOptions } from '../context.js';
import { addPlanOptions, type PlanCliOptions, planOptionsFromCli } from '../options/plan-options.js';
import { prepareCliPlan } from '../prepare-plan.js';

interface PlanCommandOptions extends PlanCliOptions {
  bigKeys?: boolean;
  buddy?: string;
  sourceCanReachTarget?: boolean;
  targetCanReachSource?: boolean;
  dropFieldTtls?: boolean;
}

function yesNo(value: string): boolean {
  if (/^(yes|true)$/i.test(value)) return true;
  if (/^(no|false)$/i.test(value)) return false;
  throw new InvalidArgumentError('must be yes or no');
}

export function registerPlanCommand(program: Command): void {
  const cmd = program
    .command('plan')
    .summary('probe two endpoints and plan the migration between them')
    .description(
      'Probes the source and the target, picks the strategy their constraints allow (replication, ' +
        'dump-restore or MIGRATE), says why the others are ruled out, lists blockers and warnings, and ' +
        'prints the runbook steps as they will run (configured hooks included), with who may approve each ' +
        'gated one and the approval policy a migration would get. Read-only: it changes nothing on either server.',
    )
    .argument('<source>', 'endpoint to migrate from: a name from the config file, or a redis:// URL')
    .argument('<target>', 'endpoint to migrate to: a name from the config file, or a redis:// URL');
  addPlanOptions(cmd)
    .option('--big-keys', 'sample the source for big keys (SCAN + MEMORY USAGE) before planning')
    .option('--buddy <user>', 'show the approvals as they would be with this buddy (a Slack user id)')
    .option(
      '--source-can-reach-target <yes|no>',
      'whether the source server can connect to the target (MIGRATE)',
      yesNo,
    )
    .option(
      '--target-can-reach-source <yes|no>',
      'whether the target server can connect to the source (replication)',
      yesNo,
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ migration-buddy plan redis://:secret@10.0.0.5:6379 rediss://user:pw@new.example:6380',
        '  $ migration-buddy plan old new --config migration-buddy.yml --db 0,3 --replace',
        '  $ migration-buddy plan old new --strategy dump-restore --match "session:*" --json',
        '',
        'Exit codes: 0 a strategy can run, 1 blocked (see the blockers), 2 bad input or an unreachable server.',
      ].join('\n'),
    );
  addGlobalOptions(cmd);
  cmd.action(
    action(async (ctx, sourceName: string, targetName: string, opts: PlanCommandOptions) => {
      const source = ctx.endpoint(sourceName);
      const target = ctx.endpoint(targetName);
      const options = planOptionsFromCli(ctx, source, target, opts, {
        sourceCanReachTarget: opts.sourceCanReachTarget,
        targetCanReachSource: opts.targetCanReachSource,
      });
      // Big keys matter on the source only: they are what gets copied.
      const prepared = await prepareCliPlan(source, target, options, ctx.config, Boolean(opts.bigKeys));
      const { plan, sourceProbe, targetProbe } = prepared;
      const policy = approvalSettingsFromConfig(ctx.config);
      if (ctx.json) {
        ctx.printJson({ ...plan, approvalPolicy: policy });
      } else {
        ctx.print(describePlan(plan, policy, opts.buddy));
        const notes = [
          ...sourceProbe.notes.map((n) => `  - source: ${n}`),
          ...targetProbe.notes.map((n) => `  - target: ${n}`),
        ];
        if (notes.length > 0) ctx.print(['', 'Probe notes:', ...notes].join('\n'));
      }
      return prepared.blocked ? ExitCode.problem : ExitCode.ok;
    }),
  );
}
