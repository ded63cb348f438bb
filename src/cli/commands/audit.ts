import type { Command } from 'commander';
import { controlEndpoint } from '../../jobs/connection.js';
import { connect } from '../../redis/connect.js';
import { formatEvent } from '../../runbook/audit.js';
import { TERMINAL_MIGRATION_STATUSES } from '../../runbook/model.js';
import { MigrationStore } from '../../runbook/store.js';
import { ExitCode, UserError } from '../../util/errors.js';
import { sleep } from '../../util/sleep.js';
import { action, addGlobalOptions, type CliContext } from '../context.js';

export function registerAuditCommand(program: Command): void {
  const cmd = program
    .command('audit')
    .summary("print a migration's audit trail")
    .description(
      'Prints every event of a migration in order (created, plan, approvals with who, steps started and ' +
        'finished with results, verification, aborts, errors) from the control Redis. --json writes one ' +
        'JSON document, { migration, status, events: [...] }, for export (with --follow, once it ends).',
    )
    .argument('<migration-id>', 'the id shown when the migration was created')
    .option('--follow', 'keep printing new events until the migration ends');
  addGlobalOptions(cmd);
  cmd.action(action(runAudit));
}

async function runAudit(ctx: CliContext, id: string, opts: { follow?: boolean }): Promise<number> {
  const redis = await connect(controlEndpoint(ctx.config), { role: 'audit' });
  try {
    const store = new MigrationStore(redis);
    const migration = await store.get(id);
    if (!migration)
      throw new UserError(
        'there is no migration with that id on this control Redis (`migration-buddy audit` takes the id shown by plan, migrate or /migrate list)',
      );
    const events: Parameters<typeof formatEvent>[0][] = [];
    const print = (e: Parameters<typeof formatEvent>[0]) =>
      ctx.json ? events.push(e) : ctx.print(formatEvent(e));
    let last: string | undefined;
    for (;;) {
      const events = await store.events(id, last ? { afterId: last } : {});
      for (const e of events) print(e);
      last = events.at(-1)?.id ?? last;
      if (!opts.follow) break;
      const cur = await store.get(id);
      if (!cur || TERMINAL_MIGRATION_STATUSES.has(cur.status)) {
        for (const e of await store.events(id, last ? { afterId: last } : {})) print(e);
        break;
      }
      await sleep(500);
    }
    if (ctx.json) {
      const status = (await store.get(id))?.status ?? migration.status;
      ctx.printJson({ migration: id, status, events });
    }
    return ExitCode.ok;
  } finally {
    redis.disconnect();
  }
}
