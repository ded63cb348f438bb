import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UserError } from '../../util/errors.js';
import { action, type CliContext } from '../context.js';
import { exampleConfigPath } from '../package-files.js';

export function registerConfigureCommand(program: Command): void {
  program
    .command('configure')
    .summary('print a commented example config to start from')
    .description(
      'Prints a commented example config (endpoints, the control Redis, approvers, hooks) to stdout, or ' +
        'writes it to --output. Passwords stay out of the file: ${VAR} reads the environment and ' +
        'passwordFile: reads a file.',
    )
    .option('-o, --output <file>', 'write it to this file instead (never over an existing one)')
    .action(action(runConfigure));
}

function runConfigure(ctx: CliContext, opts: { output?: string }): number {
  const text = readFileSync(exampleConfigPath(), 'utf8');
  if (!opts.output) {
    process.stdout.write(text);
    return 0;
  }
  if (existsSync(opts.output)) {
    throw new UserError(`${opts.output} exists; remove it or choose another --output`);
  }
  writeFileSync(opts.output, text, { mode: 0o600 });
  ctx.note(`wrote ${opts.output}: fill in the endpoints, then try \`migration-buddy probe <name>\``);
  return 0;
}
