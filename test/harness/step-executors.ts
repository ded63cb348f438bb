// The key copy's own step executors without the live phase around them (no follower queue): for
// tests that run single steps of a dump-restore plan in-process (RunbookHarness). Registered for
// every strategy; the production registry is src/strategies' table.
import { repointExecutor } from '../../src/hooks/executors.js';
import { planMigration } from '../../src/planner/plan.js';
import type { StepKind, StrategyName } from '../../src/planner/types.js';
import { ExecutorRegistry } from '../../src/runbook/step-executor.js';
import { bulkCopyExecutor } from '../../src/strategies/dump-restore/index.js';
import {
  STRATEGY_TABLE,
  type Strategy,
  type StrategyDeps,
  type StrategyOptions,
} from '../../src/strategies/index.js';
import { preflightExecutor } from '../../src/strategies/shared/preflight.js';
import { finalCheckExecutor, verifyExecutor } from '../../src/strategies/shared/verify.js';

export function copyStepExecutors(): ExecutorRegistry {
  return new ExecutorRegistry()
    .register('preflight', preflightExecutor({ plan: planMigration }))
    .register('bulk_copy', bulkCopyExecutor)
    .register('verify', verifyExecutor)
    .register('repoint', repointExecutor({ hooks: undefined }))
    .register('post_verify', finalCheckExecutor());
}

/** One strategy's own executors, as production composes them, registered for that strategy alone. */
export function registerStrategy<K extends StrategyName>(
  registry: ExecutorRegistry,
  name: K,
  options?: StrategyOptions[K],
  deps: Partial<StrategyDeps> = {},
): ExecutorRegistry {
  const strategy = STRATEGY_TABLE[name] as Strategy<unknown>;
  const executors = strategy.executors(
    {
      hooks: undefined,
      livePhase: () => undefined,
      appWrites: () => undefined,
      replan: planMigration,
      ...deps,
    },
    options,
  );
  for (const [kind, executor] of Object.entries(executors)) {
    if (executor) registry.registerFor(name, kind as StepKind, executor);
  }
  return registry;
}
