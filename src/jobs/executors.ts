// Which executor runs which step kind in this process. Strategies register theirs here; a kind
// with no executor fails its step with a message that says so. Order matters: the strategy
// modules route their own variants of a kind (e.g. MIGRATE's bulk_copy) and hand the rest to
// the executor registered before them.
import type { Config } from '../config/load.js';
import { registerDumpRestoreExecutors } from '../engine/strategies/index.js';
import { registerMigrateExecutors } from '../engine/strategies/migrate.js';
import { registerReplicationExecutors } from '../engine/strategies/replication.js';
import { registerHookExecutors } from '../hooks/executors.js';
import type { Endpoint } from '../redis/endpoint.js';
import type { Migration } from '../runbook/model.js';
import { ExecutorRegistry } from '../runbook/step-executor.js';

export function buildExecutorRegistry(config?: Pick<Config, 'hooks'>): ExecutorRegistry {
  const hooks = config?.hooks;
  const registry = new ExecutorRegistry();
  registerDumpRestoreExecutors(registry);
  registerHookExecutors(registry, { hooks });
  registerReplicationExecutors(registry, { hooks });
  registerMigrateExecutors(registry, { hooks });
  // Still to come: live_sync (src/engine/live-sync), write_pause and resume_writes (src/engine/cutover).
  return registry;
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
