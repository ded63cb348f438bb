// The executors of this process: every strategy's (src/strategies, keyed on strategy and step
// kind) with this process's hooks, live phase and record of the apps' writes.
import type { Config } from '../config/load.js';
import { planMigration } from '../planner/plan.js';
import type { Endpoint } from '../redis/endpoint.js';
import type { Migration } from '../runbook/model.js';
import type { ExecutorRegistry } from '../runbook/step-executor.js';
import type { AppWrites } from '../strategies/app-writes/index.js';
import { type StrategyOptions, strategyExecutorRegistry } from '../strategies/index.js';
import type { LivePhase } from '../strategies/live-phase/index.js';
import type { ShardFlow } from '../strategies/shared/shard-flow.js';

export interface RegistryOptions {
  /** The follower queue and records (Runtime.livePhase): without it, live-phase steps fail saying so. */
  livePhase?: LivePhase;
  /** The record of writes after the repoint (Runtime.appWrites): without it, the final check counts them as differences. */
  appWrites?: AppWrites;
  /** The shard job queue (Runtime.shardFlow): without it, a cluster's bulk copy and verify fail saying so. */
  shardFlow?: ShardFlow;
  /** Each strategy's own tuning (tests). */
  strategies?: StrategyOptions;
}

/** A Runtime (src/jobs/runtime.ts) has both: `buildExecutorRegistry(config, runtime)`. */
export function buildExecutorRegistry(
  config?: Pick<Config, 'hooks'>,
  options: RegistryOptions = {},
): ExecutorRegistry {
  const { livePhase, appWrites, shardFlow } = options;
  return strategyExecutorRegistry(
    {
      hooks: config?.hooks,
      livePhase: () => livePhase,
      appWrites: () => appWrites,
      replan: planMigration,
      shardFlow: () => shardFlow,
    },
    options.strategies,
  );
}

/**
 * Endpoints of a migration from this process's config (migrations store endpoint names only).
 * Names this config does not have resolve to undefined, so another worker can take the step.
 */
export function configEndpointResolver(config: Config | undefined, known: Map<string, Endpoint> = new Map()) {
  const lookup = (name: string): Endpoint | undefined =>
    known.get(name) ?? config?.resolvedEndpoints.get(name);
  return (m: Migration): { source: Endpoint; target: Endpoint } | undefined => {
    const source = lookup(m.source);
    const target = lookup(m.target);
    return source && target ? { source, target } : undefined;
  };
}
