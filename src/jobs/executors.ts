// Which executor runs which step kind in this process. Strategies register theirs here; a kind
// with no executor fails its step with a message that says so. Order matters: the strategy
// modules route their own variants of a kind (e.g. MIGRATE's bulk_copy) and hand the rest to
// the executor registered before them.
import type { Config } from '../config/load.js';
import { registerDumpRestoreExecutors } from '../engine/strategies/index.js';
import { type LivePhase, registerLivePhaseExecutors } from '../engine/strategies/live-phase/index.js';
import { registerMigrateExecutors } from '../engine/strategies/migrate.js';
import { registerReplicationExecutors } from '../engine/strategies/replication.js';
import { registerHookExecutors } from '../hooks/executors.js';
import type { Endpoint } from '../redis/endpoint.js';
import type { Migration } from '../runbook/model.js';
import { ExecutorRegistry } from '../runbook/step-executor.js';

/** The live phase each registry's executors use; filled by startWorkers when not given here. */
const livePhases = new WeakMap<ExecutorRegistry, { livePhase: LivePhase | undefined }>();

export interface RegistryOptions {
  /** The follower queue and records (Runtime.livePhase); startWorkers attaches its own otherwise. */
  livePhase?: LivePhase;
}

export function buildExecutorRegistry(
  config?: Pick<Config, 'hooks'>,
  options: RegistryOptions = {},
): ExecutorRegistry {
  const hooks = config?.hooks;
  const registry = new ExecutorRegistry();
  registerDumpRestoreExecutors(registry);
  registerHookExecutors(registry, { hooks });
  registerReplicationExecutors(registry, { hooks });
  registerMigrateExecutors(registry, { hooks });
  // Last: live_sync, write_pause and resume_writes, and the follower's part of bulk_copy, verify
  // (requireBacklogEmpty) and repoint, around whatever the strategies registered for those.
  const slot = { livePhase: options.livePhase };
  livePhases.set(registry, slot);
  registerLivePhaseExecutors(registry, () => slot.livePhase);
  return registry;
}

/** Gives a registry from buildExecutorRegistry this process's live phase, unless it has one. */
export function attachLivePhase(registry: ExecutorRegistry, livePhase: LivePhase): void {
  const slot = livePhases.get(registry);
  if (slot && !slot.livePhase) slot.livePhase = livePhase;
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
