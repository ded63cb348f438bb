import { type Command, InvalidArgumentError } from 'commander';
import { DEFAULT_BIG_KEY_SAMPLES } from '../../probe/big-keys.js';
import { probeEndpoint } from '../../probe/probe.js';
import { formatProbeReport } from '../../probe/report.js';
import { createLogger } from '../../util/logger.js';
import { action, addGlobalOptions } from '../context.js';
import { addDeprecatedAlias } from '../options/deprecated-alias.js';

interface ProbeCommandOptions {
  bigKeys?: boolean;
  sample?: number;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number above 0');
  return n;
}

export function registerProbeCommand(program: Command): void {
  const cmd = program
    .command('probe')
    .summary('show what a Redis endpoint allows and holds')
    .description(
      'Connects to one Redis endpoint and reports what a migration plan needs: version and RDB format, ' +
        'role and replication, cluster mode, databases with key and TTL counts, memory and eviction policy, ' +
        'keyspace notifications, modules, functions, and which admin commands (REPLICAOF, CONFIG, MIGRATE, ' +
        'SYNC/PSYNC, CLIENT PAUSE, DUMP/RESTORE, ...) this user can run. Read-only: it changes no data and ' +
        'no settings, and never runs those commands for real.',
    )
    .argument('<endpoint>', 'endpoint name from the config file, or a redis:// / rediss:// URL')
    .option(
      '--big-keys',
      `also sample keys (SCAN + MEMORY USAGE, at most --sample keys) and list the 10 biggest`,
    )
    .option(
      '--sample <n>',
      `keys to sample for --big-keys (implies it; default ${DEFAULT_BIG_KEY_SAMPLES})`,
      positiveInt,
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ migration-buddy probe redis://:secret@10.0.0.5:6379',
        '  $ migration-buddy probe source --config migration-buddy.yml --big-keys',
        '  $ migration-buddy probe target --json | jq .commands.REPLICAOF',
        '',
        'Exit codes: 0 probed, 2 bad input, unreachable server or failed authentication.',
      ].join('\n'),
    );
  // One spelling with verify's --sample N (check N random keys).
  addDeprecatedAlias(cmd, 'samples', 'sample', '', positiveInt);
  addGlobalOptions(cmd);
  cmd.action(
    action(async (ctx, nameOrUrl: string, opts: ProbeCommandOptions) => {
      const endpoint = ctx.endpoint(nameOrUrl);
      const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
      const result = await probeEndpoint(endpoint, {
        logger,
        ...(opts.bigKeys || opts.sample
          ? { bigKeys: { samples: opts.sample ?? DEFAULT_BIG_KEY_SAMPLES } }
          : {}),
      });
      if (ctx.json) ctx.printJson(result);
      else ctx.print(formatProbeReport(result));
      return 0;
    }),
  );
}
