// psync's executors: the shared ones of a live-phase cutover (stream via the follower, verify with
// the lag small, write pause drained to the source's offset, repoint, resume, final check), around
// its own full sync.
import { everyStrategysExecutors } from '../shared/executors.js';
import { keyCopyExecutors } from '../shared/key-copy.js';
import type { StrategyDeps, StrategyExecutors } from '../strategy.js';
import { fullSyncExecutor } from './full-sync.js';

export function psyncExecutors(deps: StrategyDeps): StrategyExecutors {
  return { ...everyStrategysExecutors(deps), ...keyCopyExecutors(deps, fullSyncExecutor(deps.livePhase)) };
}
