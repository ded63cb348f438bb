// Every option that `--help` shows is in the README: in its command's row of the CLI table, in the
// sentence naming the options every command takes, or the row says "see `--help`" for the rest.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { runCli } from '../harness/cli.js';

const COMMANDS = [
  'probe',
  'plan',
  'copy',
  'verify',
  'import',
  'migrate',
  'worker',
  'audit',
  'unlock',
  'serve',
  'configure',
];

/** The long names (`--big-keys`, `--no-workers`) of the options listed under "Options:". */
function longOptions(help: string): string[] {
  const section = help.slice(help.indexOf('Options:'));
  return [...section.matchAll(/^ {2}(?:-\w, )?(--[a-z0-9-]+)/gm)].map((m) => m[1]!);
}

/** Whether `text` names `option` as a whole word (`--db` is not found in `--db-list`). */
function names(text: string, option: string): boolean {
  return new RegExp(`${option}(?![a-z0-9-])`).test(text);
}

const readme = readFileSync('README.md', 'utf8');
const cliSection = readme.slice(readme.indexOf('## The CLI'), readme.indexOf('### Databases'));
const everyCommand = cliSection.slice(cliSection.indexOf('Every command takes'));
const everyCommandSentence = everyCommand.slice(0, everyCommand.indexOf('\n\n'));

test('the program-wide options are in the README', async () => {
  const run = await runCli(['--help']);
  assert.equal(run.code, 0, run.stderr);
  const missing = longOptions(run.stdout).filter((o) => !names(everyCommandSentence, o));
  assert.deepEqual(missing, [], `not in the "Every command takes" sentence of README.md`);
});

test("every command's --help options are in its README table row", async () => {
  const helps = await Promise.all(COMMANDS.map((c) => runCli([c, '--help'])));
  const missing: string[] = [];
  COMMANDS.forEach((command, i) => {
    const run = helps[i]!;
    assert.equal(run.code, 0, `${command} --help: ${run.stderr}`);
    const row = cliSection
      .split('\n')
      .find((l) => l.startsWith(`| \`${command} `) || l.startsWith(`| \`${command}\``));
    assert.ok(row, `README.md's CLI table has no row for ${command}`);
    const options = longOptions(run.stdout);
    assert.ok(options.length > 0, `no options parsed from ${command} --help`);
    if (row.includes('see `--help`')) return;
    for (const o of options)
      if (!names(row, o) && !names(everyCommandSentence, o)) missing.push(`${command} ${o}`);
  });
  assert.deepEqual(missing, [], 'options --help shows that README.md does not name');
});
