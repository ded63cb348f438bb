// Which executor runs which step kind in this process. Strategies register theirs here; a kind
// with no executor fails its step with a message that says so. Order matters: the strategy
// modules route their own variants of a kind (e.g. MIGRATE's bulk_copy) and hand the rest to
// the executor registered before them.
import type { Config } from '../config/load.js';
import { registerHookExecutors } from '../hooks/executors.js';
import type { Endpoint } from '../redis/endpoint.js';
import type { Migration } from '../runbook/model.js';
import { ExecutorRegistry } from '../runbook/step-executor.js';
import { type AppWrites, registerAppWriteRecording } from '../strategies/app-writes/index.js';
import { registerDumpRestoreExecutors } from '../strategies/dump-restore/index.js';
import { type LivePhase, registerLivePhaseExecutors } from '../strategies/live-phase/index.js';
import { registerMigrateExecutors } from '../strategies/migrate/executors.js';
import { registerReplicationExecutors } from '../strategies/replication/executors.js';

interface Slot {
  livePhase: LivePhase | undefined;
  appWrites: AppWrites | undefined;
}

/** The live phase and app-write record each registry's executors use; filled by startWorkers when not given here. */
const slots = new WeakMap<ExecutorRegistry, Slot>();

export interface RegistryOptions {
  /** The follower queue and records (Runtime.livePhase); startWorkers attaches its own otherwise. */
  livePhase?: LivePhase;
  /** The record of writes after the repoint (Runtime.appWrites); startWorkers attaches its own otherwise. */
  appWrites?: AppWrites;
}

export function buildExecutorRegistry(
  config?: Pick<Config, 'hooks'>,
  options: RegistryOptions = {},
): ExecutorRegistry {
  const hooks = config?.hooks;
  const registry = new ExecutorRegistry();
  const slot: Slot = { livePhase: options.livePhase, appWrites: options.appWrites };
  slots.set(registry, slot);
  const appWrites = () => slot.appWrites;
  registerDumpRestoreExecutors(registry, { appWrites });
  registerHookExecutors(registry, { hooks });
  registerReplicationExecutors(registry, { hooks, appWrites });
  registerMigrateExecutors(registry, { hooks });
  // The target's writes are recorded from before the apps can move (make_writable, repoint).
  registerAppWriteRecording(registry, appWrites);
  // Last: live_sync, write_pause and resume_writes, and the follower's part of bulk_copy, verify
  // (requireBacklogEmpty) and repoint, around whatever the strategies registered for those (so the
  // source is paused and drained before the recording starts).
  registerLivePhaseExecutors(registry, () => slot.livePhase);
  return registry;
}

/** Gives a registry from buildExecutorRegistry this process's live phase and app-write record, unless it has them. */
export function attachLivePhase(
  registry: ExecutorRegistry,
  livePhase: LivePhase,
  appWrites?: AppWrites,
): void {
  const slot = slots.get(registry);
  if (slot && !slot.livePhase) slot.livePhase = livePhase;
  if (slot && !slot.appWrites) slot.appWrites = appWrites;
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
