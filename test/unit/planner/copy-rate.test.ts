// The copy-time estimate: the median of the rates this strategy measured between the same servers,
// else its default; shown in the plan with where it comes from, and used by what quotes the copy
// time (the short-TTL warning).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  copyRate,
  DEFAULT_KEYS_PER_SECOND,
  FALLBACK_KEYS_PER_SECOND,
  type MeasuredRate,
} from '../../../src/planner/copy-rate.js';
import { formatPlan } from '../../../src/planner/format.js';
import { planMigration } from '../../../src/planner/plan.js';
import { MANAGED_BLOCKS, options, source, target } from './fixtures.js';

const run = (keysPerSecond: number): MeasuredRate => ({
  keysPerSecond,
  keys: 10_000,
  at: '2026-01-01T00:00:00Z',
});

describe('copyRate', () => {
  test('the median of the measured runs (odd and even counts), saying over how many', () => {
    const odd = copyRate('dump-restore', { 'dump-restore': [run(30_000), run(10_000), run(20_000)] });
    assert.deepEqual({ rate: odd.keysPerSecond, runs: odd.measuredRuns }, { rate: 20_000, runs: 3 });
    assert.match(odd.from, /measured over 3 runs of dump-restore/);
    const even = copyRate('dump-restore', {
      'dump-restore': [run(10_000), run(40_000), run(20_000), run(30_000)],
    });
    assert.equal(even.keysPerSecond, 25_000);
    assert.match(copyRate('migrate', { migrate: [run(7)] }).from, /measured over 1 run of migrate/);
  });

  test("another strategy's runs do not count: its own default, said to be one", () => {
    const r = copyRate('replication', { 'dump-restore': [run(5_000)] });
    assert.equal(r.keysPerSecond, DEFAULT_KEYS_PER_SECOND.replication);
    assert.equal(r.measuredRuns, 0);
    assert.match(r.from, /replication default from the README benchmark/);
  });

  test('unusable records (0, NaN) are left out; none left means the default', () => {
    assert.equal(
      copyRate('dump-restore', { 'dump-restore': [run(0), run(Number.NaN), run(12_000)] }).keysPerSecond,
      12_000,
    );
    assert.equal(
      copyRate('dump-restore', { 'dump-restore': [run(0)] }).keysPerSecond,
      DEFAULT_KEYS_PER_SECOND['dump-restore'],
    );
  });

  test('a rate given in the options wins; no strategy falls back to the conservative figure', () => {
    assert.equal(copyRate('dump-restore', { 'dump-restore': [run(9)] }, 1234).keysPerSecond, 1234);
    assert.equal(copyRate(null, {}).keysPerSecond, FALLBACK_KEYS_PER_SECOND);
  });
});

describe('the plan estimates the copy at the chosen strategy rate', () => {
  const managed = target({ missing: MANAGED_BLOCKS });

  test('measured runs of the chosen strategy set the estimate and the plan says so', () => {
    // A managed target whose source allows PSYNC gets psync by default: dump-restore is asked for.
    const plan = planMigration(
      source({ dbs: { 0: 300_000 } }),
      managed,
      options({ strategy: 'dump-restore' }),
      {
        'dump-restore': [run(10_000), run(30_000), run(20_000)],
        replication: [run(1)],
      },
    );
    assert.equal(plan.strategy, 'dump-restore');
    assert.equal(plan.estimates.keysPerSecond, 20_000);
    assert.equal(plan.estimates.copySeconds, 15);
    assert.match(
      formatPlan(plan),
      /about 15 s to copy at 20,000 keys\/s \(the median measured over 3 runs of dump-restore between these servers\)/,
    );
  });

  test('auto picks replication: its default, not the fixed 20,000 of old', () => {
    const plan = planMigration(source({ dbs: { 0: 320_000 } }), target(), options());
    assert.equal(plan.strategy, 'replication');
    assert.equal(plan.estimates.keysPerSecond, DEFAULT_KEYS_PER_SECOND.replication);
    assert.equal(plan.estimates.copySeconds, 2);
    assert.match(formatPlan(plan), /at 160,000 keys\/s \(the replication default/);
  });

  test('the short-TTL warning compares with the measured copy time', () => {
    const src = source({ dbs: [{ db: 0, keys: 200_000, expires: 5000, avgTtlMs: 20_000 }] });
    // At the default (100,000 keys/s) the copy takes 2 s: TTLs of 20 s are no concern.
    const dumpRestore = options({ strategy: 'dump-restore' });
    const quick = planMigration(src, managed, dumpRestore);
    assert.ok(!quick.warnings.some((w) => w.code === 'short-ttl'));
    // Measured at 5,000 keys/s, it takes 40 s: they are.
    const slow = planMigration(src, managed, dumpRestore, { 'dump-restore': [run(5_000)] });
    const warning = slow.warnings.find((w) => w.code === 'short-ttl');
    assert.match(warning?.message ?? '', /estimated copy time of 40 s/);
  });
});
