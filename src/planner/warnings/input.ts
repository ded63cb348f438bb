import type { PlanContext } from '../context.js';
import type { CopyPath } from '../copy-path.js';
import type { StrategyName } from '../types.js';

export interface WarningInput {
  ctx: PlanContext;
  path: CopyPath;
  /** The strategy the plan would run (warnings depend on it), null when none is possible. */
  strategy: StrategyName | null;
  /** That strategy moves keys one by one (dump-restore, MIGRATE), not the dataset by replication. */
  copiesKeys: boolean;
  /** Replication was ruled out only because of --match or --db. */
  replicationOutForSubsetOnly: boolean;
}
