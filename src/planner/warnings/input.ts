import type { PlanContext } from '../context.js';
import type { CopyPath } from '../copy-path.js';
import type { StrategyName } from '../types.js';

export interface WarningInput {
  ctx: PlanContext;
  path: CopyPath;
  /** The strategy the plan would run (warnings depend on it), null when none is possible. */
  strategy: StrategyName | null;
  /** Replication was ruled out only because of --match or --db. */
  replicationOutForSubsetOnly: boolean;
}

/** The strategy copies keys from a client (DUMP/RESTORE or MIGRATE), not by replication. */
export function copiesKeys(strategy: StrategyName | null): boolean {
  return strategy === 'dump-restore' || strategy === 'migrate';
}
