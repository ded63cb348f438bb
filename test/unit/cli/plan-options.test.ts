// The plan options `plan` and `migrate` share: declared once (addPlanOptions), parsed by a real
// commander program, and turned into the planner's PlanOptions (planOptionsFromCli).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import {
  addPlanOptions,
  type PlanCliOptions,
  planOptionsFromCli,
} from '../../../src/cli/options/plan-options.js';
import type { Config } from '../../../src/config/load.js';
import { DEFAULT_BIG_KEY_THRESHOLD_BYTES } from '../../../src/planner/defaults.js';

function parse(args: string[]): PlanCliOptions {
  let opts: PlanCliOptions | undefined;
  const program = new Command('mb').exitOverride().configureOutput({ writeErr: () => {} });
  addPlanOptions(program.command('plan').argument('<source>').argument('<target>')).action(
    (_s: string, _t: string, o: PlanCliOptions) => {
      opts = o;
    },
  );
  program.parse(['plan', 'a', 'b', ...args], { from: 'user' });
  return opts!;
}

const noDb = { urlDb: undefined };
const noConfig = { config: undefined };

test('no flags: auto, refuse a non-empty target, every database, DUMP payloads', () => {
  const options = planOptionsFromCli(noConfig, noDb, noDb, parse([]));
  assert.equal(options.strategy, 'auto');
  assert.equal(options.onNonEmptyTarget, 'refuse');
  assert.equal(options.dbs, 'all');
  assert.equal(options.byType, false);
  assert.equal(options.match, undefined);
  assert.equal(options.bigKeyThresholdBytes, DEFAULT_BIG_KEY_THRESHOLD_BYTES);
});

test('every shared flag reaches the plan options', () => {
  const opts = parse([
    '--strategy',
    'migrate',
    '--flush-target',
    '--by-type',
    '--db',
    '3,0,3',
    '--match',
    's:*',
  ]);
  const config = { copy: { bigKeyThresholdBytes: 1234 } } as unknown as Config;
  const options = planOptionsFromCli({ config }, noDb, noDb, opts, { sourceCanReachTarget: false });
  assert.equal(options.strategy, 'migrate');
  assert.equal(options.onNonEmptyTarget, 'flush');
  assert.equal(options.byType, true);
  assert.deepEqual(options.dbs, [0, 3], 'sorted, each once');
  assert.equal(options.match, 's:*');
  assert.equal(options.bigKeyThresholdBytes, 1234, "the config's threshold");
  assert.equal(options.sourceCanReachTarget, false, "a command's own option");
  assert.equal(planOptionsFromCli(noConfig, noDb, noDb, parse(['--replace'])).onNonEmptyTarget, 'replace');
});

test('a database in the URLs selects and maps it when --db is absent', () => {
  const options = planOptionsFromCli(noConfig, { urlDb: 3 }, { urlDb: 5 }, parse([]));
  assert.deepEqual(options.dbs, [3]);
  assert.deepEqual(options.dbRemap, { from: 3, to: 5 });
  assert.equal(options.dbsFromUrl, true);
});

test('refusals say what is wrong and what to do', () => {
  assert.throws(
    () => planOptionsFromCli(noConfig, noDb, noDb, parse(['--replace', '--flush-target'])),
    /--replace and --flush-target exclude each other: pick one/,
  );
  assert.throws(
    () => planOptionsFromCli(noConfig, noDb, noDb, parse(['--db', '0,x'])),
    /--db must be "all" or database numbers separated by commas, like 0,3/,
  );
  assert.throws(() => parse(['--match', ' ']), /must not be empty/);
  assert.throws(() => parse(['--strategy', 'rsync']), /Allowed choices are auto, replication/);
});
