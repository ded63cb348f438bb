import { dumpRestoreSteps } from '../../strategies/dump-restore/steps.js';
import { migrateSteps } from '../../strategies/migrate/steps.js';
import { replicationSteps } from '../../strategies/replication/steps.js';
import type { PlanContext } from '../context.js';
import type { CopyPath } from '../copy-path.js';
import type { PlannedStep, StrategyName } from '../types.js';

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
