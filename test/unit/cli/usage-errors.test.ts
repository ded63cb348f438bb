// Commander's own usage errors, produced by a real commander program, lose the typed values.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command, InvalidArgumentError } from 'commander';
import { withoutTypedValues } from '../../../src/cli/usage-errors.js';

const TYPED = 'Fz-pw-9731';

function run(args: string[]): string {
  let shown = '';
  const program = new Command('mb').exitOverride().configureOutput({
    outputError: (text, write) => write(withoutTypedValues(text)),
    writeErr: (t) => (shown += t),
  });
  const number = (v: string) => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError('must be a whole number');
    return Number(v);
  };
  program
    .command('plan')
    .argument('<source>')
    .argument('[count]', 'a number', number)
    .option('--replace', 'overwrite')
    .option('--sample <n>', 'how many', number)
    .action(() => {});
  try {
    program.parse(args, { from: 'user' });
  } catch {
    // exitOverride throws after the error was written
  }
  return shown;
}

test('usage errors name the option or argument, never the value typed', () => {
  const cases: [string[], RegExp][] = [
    [['plan', 'a', `--password=${TYPED}`], /^error: unknown option\n$/],
    [['plan', 'a', '--replce'], /^error: unknown option\n\(Did you mean --replace\?\)\n$/],
    [[TYPED], /^error: unknown command\n$/],
    [['plna'], /^error: unknown command\n\(Did you mean plan\?\)\n$/],
    [
      ['plan', 'a', '--sample', TYPED],
      /^error: option '--sample <n>' argument is invalid\. must be a whole number\n$/,
    ],
    [
      ['plan', 'a', TYPED],
      /^error: command-argument value is invalid for argument 'count'\. must be a whole number\n$/,
    ],
  ];
  for (const [args, expected] of cases) {
    const shown = run(args);
    assert.match(shown, expected, args.join(' '));
    assert.ok(!shown.includes(TYPED), `${args.join(' ')}: ${shown}`);
  }
});

test('other messages pass unchanged', () => {
  assert.equal(
    withoutTypedValues("error: missing required argument 'source'\n"),
    "error: missing required argument 'source'\n",
  );
});
