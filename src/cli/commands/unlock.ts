import type { Command } from 'commander';
import { controlEndpoint } from '../../jobs/connection.js';
import { connect } from '../../redis/connect.js';
import { resolveServer } from '../../redis/resolve.js';
import { isServerKey, serverKey } from '../../runbook/locks.js';
import { MigrationService } from '../../runbook/service.js';
import { approvalSettingsFromConfig } from '../../runbook/settings.js';
import { MigrationStore } from '../../runbook/store.js';
import { ExitCode, UserError } from '../../util/errors.js';
import { action, addGlobalOptions, type CliContext } from '../context.js';

export function registerUnlockCommand(program: Command): void {
  const cmd = program
    .command('unlock')
    .summary('clear a stale server lock (its migration is gone or ended)')
    .description(
      'One migration at a time may use a server, as source or target: creating a migration locks both ' +
        'servers until it ends. A lock whose migration is gone (or ended without giving it back) is stale; ' +
        'this clears the stale locks of one server and records that in the audit trail of the migration ' +
        'that held them. A lock of an active migration is never cleared: abort that migration instead. ' +
        'When approvers are configured, --as must be one of them.',
    )
    .argument(
      '<server>',
      'an endpoint name, a redis:// URL, or the server as a refusal named it (10.0.0.5:6379)',
    )
    .requiredOption('--as <user>', 'who clears it (a Slack user id, e.g. U0123ABCD)');
  addGlobalOptions(cmd);
  cmd.action(action(runUnlock));
}

async function runUnlock(ctx: CliContext, what: string, opts: { as: string }): Promise<number> {
  const server = isServerKey(what) ? what : serverKey(await resolveServer(ctx.endpoint(what)));
  const redis = await connect(controlEndpoint(ctx.config), { role: 'unlock' });
  try {
    const service = new MigrationService({
      store: new MigrationStore(redis),
      settings: approvalSettingsFromConfig(ctx.config),
    });
    const res = await service.unlock(server, opts.as);
    if (!res.ok) throw new UserError(`${server}: ${res.reason}`, ExitCode.problem);
    if (ctx.json) ctx.printJson({ server, cleared: res.cleared });
    else ctx.print(`${server}: ${res.message}`);
    return ExitCode.ok;
  } finally {
    redis.disconnect();
  }
}
