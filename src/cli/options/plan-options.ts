// The plan options `plan` and `migrate` both take (strategy, what to do with a non-empty target,
// by-type, databases, key pattern), declared once so the two commands cannot drift apart, and the
// PlanOptions they make.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { withDefaults } from '../../planner/defaults.js';
import { type PlanOptions, STRATEGIES } from '../../planner/types.js';
import type { Endpoint } from '../../redis/endpoint.js';
import { planDatabases } from '../../usecases/plan-migration.js';
import { UserError } from '../../util/errors.js';
import type { CliContext } from '../context.js';
import { addDropFieldTtlsOption } from './field-ttl-option.js';
import { dbFlag } from './values.js';

/** What commander gives for the options addPlanOptions declares. */
export interface PlanCliOptions {
  strategy: PlanOptions['strategy'];
  replace?: boolean;
  flushTarget?: boolean;
  byType?: boolean;
  db?: string;
  match?: string;
  dropFieldTtls?: boolean;
}

export function addPlanOptions(cmd: Command): Command {
  cmd
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
    );
  return addDropFieldTtlsOption(cmd);
}

/**
 * The plan options the flags ask for, the big-key threshold from the config, and `more` (options
 * only one command has). The URLs' databases select when --db is absent.
 */
export function planOptionsFromCli(
  ctx: Pick<CliContext, 'config'>,
  source: Pick<Endpoint, 'urlDb'>,
  target: Pick<Endpoint, 'urlDb'>,
  opts: PlanCliOptions,
  more: Partial<PlanOptions> = {},
): PlanOptions {
  if (opts.replace && opts.flushTarget) {
    throw new UserError('--replace and --flush-target exclude each other: pick one');
  }
  return withDefaults({
    strategy: opts.strategy,
    onNonEmptyTarget: opts.flushTarget ? 'flush' : opts.replace ? 'replace' : 'refuse',
    ...planDatabases(source, target, dbFlag(opts.db)),
    match: opts.match,
    byType: Boolean(opts.byType),
    ...(opts.dropFieldTtls ? { dropFieldTtls: true } : {}),
    bigKeyThresholdBytes: ctx.config?.copy?.bigKeyThresholdBytes,
    ...more,
  });
}

function nonEmpty(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('must not be empty');
  return value;
}
