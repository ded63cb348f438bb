// An old spelling of an option, kept so scripts that use it still run: hidden from --help, it says
// on stderr which spelling replaced it and sets that option's value.
import { type Command, Option } from 'commander';

/** `old` and `replacement` are long flags without their dashes, e.g. "samples", "examples". */
export function addDeprecatedAlias(
  cmd: Command,
  old: string,
  replacement: string,
  why = '',
  parse: (value: string) => unknown = (value) => value,
): Command {
  cmd.addOption(new Option(`--${old} <value>`).hideHelp());
  cmd.on(`option:${old}`, (value: string) => {
    process.stderr.write(
      `warning: --${old} is deprecated, use --${replacement}${why ? ` (${why})` : ''}; it will be removed\n`,
    );
    const key = replacement.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    let parsed: unknown;
    try {
      parsed = parse(value);
    } catch (err) {
      // As commander reports a bad value of any option: one line, exit 2.
      cmd.error(`error: option '--${old} <value>' argument is invalid. ${(err as Error).message}`, {
        code: 'commander.invalidArgument',
        exitCode: 2,
      });
    }
    cmd.setOptionValueWithSource(key, parsed, 'cli');
  });
  return cmd;
}
