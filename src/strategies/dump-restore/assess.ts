// When dump-restore is possible: almost always (it needs only a client's SCAN, DUMP, PTTL and
// RESTORE); only module keys that must be copied type by type rule it out.
import type { PlanContext } from '../../planner/context.js';
import type { CopyPath } from '../../planner/copy-path.js';
import { modeReasons } from '../../planner/server-modes.js';
import type { Assessment } from '../strategy.js';

export function assessDumpRestore(ctx: PlanContext, path: CopyPath): Assessment {
  const reasons = modeReasons(ctx);
  if (path.copyMode === 'by-type' && ctx.moduleTypesSampled.length > 0) {
    reasons.push(
      `keys of module types (${ctx.moduleTypesSampled.join(', ')}) were sampled on the source and cannot be ` +
        `copied type by type, which is needed because ${path.byTypeBecause.join('; ')}`,
    );
  }
  return { strategy: 'dump-restore', viable: reasons.length === 0, reasons };
}
