// Executors of the replication strategy's steps, on the mechanism beside them (start.ts,
// wait-sync.ts, verify.ts, writable.ts, drain.ts, promote.ts).
import { repointExecutor } from '../../hooks/executors.js';
import type { StepContext, StepExecutor } from '../../runbook/step-executor.js';
import { recordingExecutor } from '../app-writes/index.js';
import { everyStrategysExecutors } from '../shared/executors.js';
import type { StrategyDeps, StrategyExecutors } from '../strategy.js';
import { drainCheck } from './drain.js';
import { type ReplicationOptions, resolveOptions } from './options.js';
import { promote } from './promote.js';
import { startReplication } from './start.js';
import { verifyReplication } from './verify.js';
import { waitForSync } from './wait-sync.js';
import { makeWritable } from './writable.js';

const STILL_ATTACHED =
  'the target may still replicate from the source with the migration settings; the abort cleanup detaches it ' +
  '(REPLICAOF NO ONE) and restores masterauth, masteruser, tls-replication and replica-read-only';

/** The executors of the replication runbook (src/strategies/replication/steps.ts). */
export function replicationExecutors(
  deps: StrategyDeps,
  options: ReplicationOptions = {},
): StrategyExecutors {
  const resolved = resolveOptions(options);
  const step = (run: StepExecutor['run'], abortState: string): StepExecutor => ({
    run,
    abortState: () => abortState,
  });
  const verify = (ctx: StepContext) => verifyReplication(ctx, resolved, deps.appWrites);
  return {
    ...everyStrategysExecutors(deps),
    start_replication: step(
      (ctx) => startReplication(ctx, resolved),
      'REPLICAOF may have been sent: the abort cleanup detaches the target and restores its settings; ' +
        'its data is intact unless the sync had begun loading',
    ),
    wait_sync: step((ctx) => waitForSync(ctx, resolved), STILL_ATTACHED),
    verify: step(verify, STILL_ATTACHED),
    // The apps may write on the target from here on: the record of their writes starts first.
    make_writable: recordingExecutor(
      step((ctx) => makeWritable(ctx), STILL_ATTACHED),
      deps.appWrites,
    ),
    repoint: recordingExecutor(repointExecutor({ hooks: deps.hooks }), deps.appWrites),
    drain_check: step((ctx) => drainCheck(ctx, resolved), STILL_ATTACHED),
    promote: step(
      (ctx) => promote(ctx, resolved),
      'REPLICAOF NO ONE may have run: the target is promoted or still replicates; the abort cleanup finishes ' +
        'detaching it and restores its settings',
    ),
    post_verify: step(verify, 'this step only reads: nothing changed'),
  };
}
