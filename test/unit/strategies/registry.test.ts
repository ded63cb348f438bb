import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildExecutorRegistry } from '../../../src/jobs/executors.js';
import { planMigration } from '../../../src/planner/plan.js';
import { STRATEGIES, type StepKind } from '../../../src/planner/types.js';
import { ExecutorRegistry, type StepExecutor } from '../../../src/runbook/step-executor.js';
import { STRATEGIES_BEST_FIRST, STRATEGY_TABLE } from '../../../src/strategies/index.js';
import { MANAGED_BLOCKS, options, source, target } from '../planner/fixtures.js';

const executor = (summary: string): StepExecutor => ({ run: async () => ({ summary }) });

describe('the strategy table', () => {
  test('lists every strategy once, under its own name, best first', () => {
    assert.deepEqual(Object.keys(STRATEGY_TABLE).sort(), [...STRATEGIES].sort());
    for (const [key, strategy] of Object.entries(STRATEGY_TABLE)) assert.equal(strategy.name, key);
    assert.deepEqual(
      STRATEGIES_BEST_FIRST.map((s) => s.name),
      ['replication', 'psync', 'dump-restore', 'migrate'],
    );
  });

  test('auto takes the first viable strategy in the table; the assessments come in its order', () => {
    const all = planMigration(source(), target(), options());
    assert.equal(all.strategy, 'replication');
    assert.deepEqual(
      all.assessments.map((a) => a.strategy),
      STRATEGIES_BEST_FIRST.map((s) => s.name),
    );
    const noReplica = planMigration(
      source(),
      target({ missing: { REPLICAOF: 'unknown command' } }),
      options(),
    );
    assert.equal(noReplica.strategy, 'psync');
    const noReplicaNoPsync = planMigration(
      source({ missing: { PSYNC: 'unknown command' } }),
      target({ missing: { REPLICAOF: 'unknown command' } }),
      options(),
    );
    assert.equal(noReplicaNoPsync.strategy, 'dump-restore');
  });

  // Every variant each strategy plans: with live sync, pausing first, with a flush.
  const plans = [
    planMigration(source(), target(), options()),
    planMigration(
      source({ notifyKeyspaceEvents: 'KEA' }),
      target({ missing: MANAGED_BLOCKS }),
      options({ strategy: 'dump-restore' }),
    ),
    planMigration(source({ missing: MANAGED_BLOCKS }), target({ missing: MANAGED_BLOCKS }), options()),
    planMigration(
      source(),
      target({ missing: MANAGED_BLOCKS, dbs: { 0: 1 } }),
      options({ onNonEmptyTarget: 'flush' }),
    ),
    planMigration(source(), target(), options({ strategy: 'migrate' })),
    planMigration(source(), target({ missing: MANAGED_BLOCKS }), options({ strategy: 'psync' })),
    planMigration(source({ notifyKeyspaceEvents: 'KEA' }), target(), options({ strategy: 'migrate' })),
  ];

  test('every step kind a strategy plans has an executor of that strategy', () => {
    const registry = buildExecutorRegistry();
    const seen = new Set<string>();
    for (const plan of plans) {
      assert.ok(plan.strategy, JSON.stringify(plan.blockers));
      seen.add(plan.strategy);
      for (const step of plan.steps) {
        assert.ok(
          registry.get(step.kind, plan.strategy),
          `${plan.strategy} has no executor for ${step.kind}`,
        );
      }
    }
    assert.deepEqual([...seen].sort(), [...STRATEGIES].sort());
  });

  test('the same kind runs a different executor per strategy', () => {
    const registry = buildExecutorRegistry();
    assert.notEqual(registry.get('bulk_copy', 'migrate'), registry.get('bulk_copy', 'dump-restore'));
    assert.notEqual(registry.get('verify', 'replication'), registry.get('verify', 'dump-restore'));
    assert.notEqual(registry.get('bulk_copy', 'psync'), registry.get('bulk_copy', 'dump-restore'));
    assert.equal(registry.get('start_replication', 'dump-restore'), undefined);
  });
});

describe('ExecutorRegistry', () => {
  test("a strategy's own executor wins over one for every strategy, in either order of registration", async () => {
    const own = executor('own');
    const any = executor('any');
    const first = new ExecutorRegistry().registerFor('migrate', 'bulk_copy', own).register('bulk_copy', any);
    const second = new ExecutorRegistry().register('bulk_copy', any).registerFor('migrate', 'bulk_copy', own);
    for (const r of [first, second]) {
      assert.equal(r.get('bulk_copy', 'migrate'), own);
      assert.equal(r.get('bulk_copy', 'dump-restore'), any);
      assert.equal(r.get('bulk_copy'), any);
    }
  });

  test('lists the kinds it can run and has nothing for the others', () => {
    const r = new ExecutorRegistry()
      .registerFor('replication', 'promote', executor('p'))
      .register('hook', executor('h'));
    assert.deepEqual(r.kinds().sort(), ['hook', 'promote'] satisfies StepKind[]);
    assert.equal(r.has('promote', 'replication'), true);
    assert.equal(r.has('promote', 'dump-restore'), false);
    assert.equal(r.get('verify', 'replication'), undefined);
  });
});
