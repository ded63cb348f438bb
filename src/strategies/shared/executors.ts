// Executors of the steps every plan may hold, whatever its strategy: preflight (probe again, check
// the plan still holds) and the hooks placed from the config.
import { hookStepExecutor } from '../../hooks/executors.js';
import type { StrategyDeps, StrategyExecutors } from '../strategy.js';
import { preflightExecutor } from './preflight.js';

export function everyStrategysExecutors(deps: StrategyDeps): StrategyExecutors {
  return {
    preflight: preflightExecutor({ plan: deps.replan }),
    hook: hookStepExecutor({ hooks: deps.hooks }),
  };
}
