// Executors of the replication strategy's steps. Kinds that other strategies share (verify,
// post_verify) are routed: replication steps (params.strategy 'replication') run here, others go
// to whatever was registered for the kind before. So register this after the generic executors.
import { type HookExecutorOptions, registerHookExecutors } from '../../hooks/executors.js';
import { ExecutorRegistry, type StepContext, type StepExecutor } from '../../runbook/step-executor.js';
import type { AppWritesProvider } from '../app-writes/index.js';
import { preflightExecutor } from '../shared/preflight.js';
import {
  drainCheck,
  makeWritable,
  promote,
  type ReplicationOptions,
  resolveOptions,
  startReplication,
  verifyReplication,
  waitForSync,
} from './index.js';

export interface ReplicationExecutorOptions extends ReplicationOptions {
  /** The config's hooks, for the repoint step (a person confirms when there is none). */
  hooks?: HookExecutorOptions['hooks'];
  /** The record of the apps' writes after the repoint, for the final check. */
  appWrites?: AppWritesProvider;
}

/**
 * Registers `executor` for `kind` for the steps `matches` accepts; other steps of that kind go to
 * the executor registered before (or fail with a message naming the kind when there was none).
 */
export function registerRouted(
  registry: ExecutorRegistry,
  kind: StepContext['step']['kind'],
  matches: (params: Record<string, unknown>) => boolean,
  executor: StepExecutor,
): void {
  const fallback = registry.get(kind);
  registry.register(kind, {
    run: (ctx) => {
      if (matches(ctx.step.params)) return executor.run(ctx);
      if (!fallback)
        throw new Error(`no executor for "${kind}" steps of strategy ${String(ctx.step.params.strategy)}`);
      return fallback.run(ctx);
    },
    abortState: (ctx) => {
      const chosen = matches(ctx.step.params) ? executor : fallback;
      return (
        chosen?.abortState?.(ctx) ?? 'the step was stopped part way; check source and target before going on'
      );
    },
  });
}

const isReplication = (params: Record<string, unknown>) => params.strategy === 'replication';

const STILL_ATTACHED =
  'the target may still replicate from the source with the migration settings; the abort cleanup detaches it ' +
  '(REPLICAOF NO ONE) and restores masterauth, masteruser, tls-replication and replica-read-only';

export function registerReplicationExecutors(
  registry: ExecutorRegistry = new ExecutorRegistry(),
  options: ReplicationExecutorOptions = {},
): ExecutorRegistry {
  const resolved = resolveOptions(options);
  const step = (run: StepExecutor['run'], abortState: string): StepExecutor => ({
    run,
    abortState: () => abortState,
  });
  if (!registry.has('preflight')) registry.register('preflight', preflightExecutor());
  // The repoint executor runs the configured hook, or asks a person (as the plain one does). A call
  // without hooks keeps executors registered with them.
  if (options.hooks !== undefined || !registry.has('hook'))
    registerHookExecutors(registry, { hooks: options.hooks });
  registry
    .register(
      'start_replication',
      step(
        (ctx) => startReplication(ctx, resolved),
        'REPLICAOF may have been sent: the abort cleanup detaches the target and restores its settings; ' +
          'its data is intact unless the sync had begun loading',
      ),
    )
    .register(
      'wait_sync',
      step((ctx) => waitForSync(ctx, resolved), STILL_ATTACHED),
    )
    .register(
      'make_writable',
      step((ctx) => makeWritable(ctx), STILL_ATTACHED),
    )
    .register(
      'drain_check',
      step((ctx) => drainCheck(ctx, resolved), STILL_ATTACHED),
    )
    .register(
      'promote',
      step(
        (ctx) => promote(ctx, resolved),
        'REPLICAOF NO ONE may have run: the target is promoted or still replicates; the abort cleanup finishes ' +
          'detaching it and restores its settings',
      ),
    );
  const verify = (ctx: StepContext) => verifyReplication(ctx, resolved, options.appWrites);
  registerRouted(registry, 'verify', isReplication, step(verify, STILL_ATTACHED));
  registerRouted(
    registry,
    'post_verify',
    isReplication,
    step(verify, 'this step only reads: nothing changed'),
  );
  return registry;
}
