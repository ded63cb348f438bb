#!/usr/bin/env node
import { Command } from 'commander';
import { registerAuditCommand } from './commands/audit.js';
import { registerConfigureCommand } from './commands/configure.js';
import { registerCopyCommand } from './commands/copy.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerPlanCommand } from './commands/plan.js';
import { registerProbeCommand } from './commands/probe.js';
import { registerServeCommand } from './commands/serve.js';
import { registerUnlockCommand } from './commands/unlock.js';
import { registerVerifyCommand } from './commands/verify.js';
import { registerWorkerCommand } from './commands/worker.js';
import { addGlobalOptions } from './context.js';
import { packageVersion } from './package-files.js';
import { withoutTypedValues } from './usage-errors.js';

export function buildProgram(): Command {
  const program = new Command('migration-buddy')
    .description(
      'Plan and run zero-downtime Redis migrations, with a second person approving every irreversible step.',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    // Inherited by every subcommand made with .command().
    .configureOutput({ outputError: (text, write) => write(withoutTypedValues(text)) })
    .exitOverride((err) => {
      // Bad usage exits 2 (documented), help and version exit 0.
      process.exit(err.exitCode === 0 ? 0 : 2);
    });
  addGlobalOptions(program);
  registerProbeCommand(program);
  registerPlanCommand(program);
  registerCopyCommand(program);
  registerVerifyCommand(program);
  registerMigrateCommand(program);
  registerWorkerCommand(program);
  registerAuditCommand(program);
  registerUnlockCommand(program);
  registerServeCommand(program);
  registerConfigureCommand(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
