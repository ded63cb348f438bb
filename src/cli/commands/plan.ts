import { type Command, InvalidArgumentError, Option } from 'commander';
import { withDefaults } from '../../planner/defaults.js';
import { type PlanOptions, STRATEGIES } from '../../planner/types.js';
import { probeEndpoint } from '../../probe/index.js';
import type { Endpoint } from '../../redis/endpoint.js';
import { approvalSettingsFromConfig } from '../../runbook/settings.js';
import {
  describePlan,
  type PreparedPlan,
  ProbeFailedError,
  planDatabases,
  preparePlan,
} from '../../usecases/plan-migration.js';
import { ExitCode, UserError } from '../../util/errors.js';
import { action, addGlobalOptions } from '../context.js';
import { addDropFieldTtlsOption } from '../field-ttl-option.js';

interface PlanCommandOptions {
  strategy: PlanOptions['strategy'];
  replace?: boolean;
  flushTarget?: boolean;
  byType?: boolean;
  db?: string;
  match?: string;
  bigKeys?: boolean;
  buddy?: string;
  sourceCanReachTarget?: boolean;
  targetCanReachSource?: boolean;
  dropFieldTtls?: boolean;
}

/** "all" or a comma-separated list of database numbers ("0,3"), as the planner wants it. */
export function parseDbList(text: string): 'all' | number[] {
  const value = text.trim();
  if (value === 'all') return 'all';
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => !/^\d{1,9}$/.test(p))) {
    throw new InvalidArgumentError(`must be "all" or database numbers separated by commas, like 0,3`);
  }
  return [...new Set(parts.map(Number))].sort((a, b) => a - b);
}

/** `--db` as given, or undefined when it was not (the URLs' databases may then select). */
export function dbFlag(text: string | undefined): 'all' | number[] | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDbList(text);
  } catch (err) {
    throw new UserError(`--db ${(err as Error).message}`);
  }
}

function yesNo(value: string): boolean {
  if (/^(yes|true)$/i.test(value)) return true;
  if (/^(no|false)$/i.test(value)) return false;
  throw new InvalidArgumentError('must be yes or no');
}

function nonEmpty(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('must not be empty');
  return value;
}

/** The plan-and-create use case's read-only part with the real probe; a probe's own error as is. */
export async function prepareCliPlan(
  source: Endpoint,
  target: Endpoint,
  options: PlanOptions,
  hooks: Parameters<typeof preparePlan>[0]['hooks'],
  bigKeys = false,
): Promise<PreparedPlan> {
  try {
    return await preparePlan({ source, target, options, hooks, bigKeys }, (e, o) => probeEndpoint(e, o));
  } catch (err) {
    throw err instanceof ProbeFailedError ? err.cause : err;
  }
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
    .argument('<target>', 'endpoint to migrate to: a name from the config file, or a redis:// URL')
    .addOption(
      new Option('--strategy <name>', 'strategy to use; auto picks the best one possible')
        .choices(['auto', ...STRATEGIES])
        .default('auto'),
    )
    .option('--replace', 'if the target holds keys, overwrite those that also exist on the source')
    .option('--flush-target', 'if the target holds keys, empty the databases to copy first (destructive)')
    .option('--by-type', 'copy type by type (native commands) instead of DUMP/RESTORE payloads')
    .option(
      '--db <list>',
      'databases to copy: all (the default), or a list like 0,3; not with a database in the URLs ' +
        "(redis://host:port/3 copies db 3 only, into the target URL's database)",
    )
    .option(
      '--match <pattern>',
      'copy only keys matching this SCAN pattern (rules out replication)',
      nonEmpty,
    )
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
  addDropFieldTtlsOption(cmd);
  addGlobalOptions(cmd);
  cmd.action(
    action(async (ctx, sourceName: string, targetName: string, opts: PlanCommandOptions) => {
      if (opts.replace && opts.flushTarget) {
        throw new UserError('--replace and --flush-target exclude each other: pick one');
      }
      const source = ctx.endpoint(sourceName);
      const target = ctx.endpoint(targetName);
      const options = withDefaults({
        strategy: opts.strategy,
        onNonEmptyTarget: opts.flushTarget ? 'flush' : opts.replace ? 'replace' : 'refuse',
        ...planDatabases(source, target, dbFlag(opts.db)),
        match: opts.match,
        byType: Boolean(opts.byType),
        ...(opts.dropFieldTtls ? { dropFieldTtls: true } : {}),
        bigKeyThresholdBytes: ctx.config?.copy?.bigKeyThresholdBytes,
        sourceCanReachTarget: opts.sourceCanReachTarget,
        targetCanReachSource: opts.targetCanReachSource,
      });
      // Big keys matter on the source only: they are what gets copied.
      const prepared = await prepareCliPlan(
        source,
        target,
        options,
        ctx.config?.hooks,
        Boolean(opts.bigKeys),
      );
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
