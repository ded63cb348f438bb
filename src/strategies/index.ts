// The strategies, best first: this table is the one place that lists them. The planner assesses
// each in this order (auto picks the first viable one), and the executor registry is built from
// it, keyed on (strategy, step kind). Adding a strategy: a folder src/strategies/<name>/ whose
// index exports its Strategy, its name in planner/types.ts STRATEGIES, and one line here.
//
// Why this order: replication is native and complete; psync is the same protocol with the tool as
// the replica (for a target that forbids REPLICAOF), exact and cheap on the source; dump-restore
// works everywhere, copies from a client and follows changes live; MIGRATE blocks both servers per batch and needs the source to
// reach the target.
import type { StepKind, StrategyName } from '../planner/types.js';
import { ExecutorRegistry } from '../runbook/step-executor.js';
import { dumpRestore } from './dump-restore/index.js';
import { migrate } from './migrate/index.js';
import { psync } from './psync/index.js';
import { replication } from './replication/index.js';
import type { Strategy, StrategyDeps } from './strategy.js';

export const STRATEGY_TABLE = {
  replication,
  psync,
  'dump-restore': dumpRestore,
  migrate,
} as const satisfies { readonly [K in StrategyName]: Strategy<never> };

/** Every strategy, best first. */
export const STRATEGIES_BEST_FIRST: readonly Strategy<never>[] = Object.values(STRATEGY_TABLE);

/** Each strategy's own tuning of its mechanism (tests and benches; the defaults serve production). */
export type StrategyOptions = {
  [K in StrategyName]?: Parameters<(typeof STRATEGY_TABLE)[K]['executors']>[1];
};

/** Every strategy's executors, keyed on (strategy, step kind). */
export function strategyExecutorRegistry(
  deps: StrategyDeps,
  options: StrategyOptions = {},
): ExecutorRegistry {
  const registry = new ExecutorRegistry();
  for (const name of Object.keys(STRATEGY_TABLE) as StrategyName[]) {
    const strategy = STRATEGY_TABLE[name] as Strategy<unknown>;
    for (const [kind, executor] of Object.entries(strategy.executors(deps, options[name]))) {
      if (executor) registry.registerFor(name, kind as StepKind, executor);
    }
  }
  return registry;
}

export type { Assessment, Strategy, StrategyDeps, StrategyExecutors } from './strategy.js';
