import type { PlanContext } from '../context.js';
import type { CopyPath } from '../copy-path.js';
import type { PlannedStep, StrategyName } from '../types.js';
import { dumpRestoreSteps } from './dump-restore.js';
import { migrateSteps } from './migrate.js';
import { replicationSteps } from './replication.js';

export function buildSteps(strategy: StrategyName, ctx: PlanContext, path: CopyPath): PlannedStep[] {
  switch (strategy) {
    case 'replication':
      return replicationSteps(ctx);
    case 'dump-restore':
      return dumpRestoreSteps(ctx, path);
    case 'migrate':
      return migrateSteps(ctx, path);
  }
}
