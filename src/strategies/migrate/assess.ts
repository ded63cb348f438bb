// When MIGRATE is possible: the source has MIGRATE and can reach the target, the target restores
// its DUMP payloads (same or newer RDB format, keys within proto-max-bulk-len), and the source is a
// primary (MIGRATE is a write).
import { type PlanContext, unavailable } from '../../planner/context.js';
import { modeReasons } from '../../planner/server-modes.js';
import { formatBytes, plural } from '../../planner/units.js';
import type { Assessment } from '../strategy.js';

export function assessMigrate(ctx: PlanContext): Assessment {
  const { source, target, options } = ctx;
  const reasons = modeReasons(ctx);
  const noMigrate = unavailable(ctx, 'source', 'MIGRATE');
  if (noMigrate) reasons.push(noMigrate);
  const noRestore = unavailable(ctx, 'target', 'RESTORE');
  if (noRestore) reasons.push(`${noRestore} (MIGRATE writes with RESTORE)`);
  if (ctx.downgrade) {
    reasons.push(
      `target's RDB format ${target.server.rdbVersion} is older than the source's ${source.server.rdbVersion}: ` +
        'MIGRATE sends DUMP payloads the target rejects',
    );
  }
  if (options.byType) reasons.push('MIGRATE always sends DUMP payloads: it cannot copy --by-type');
  if (options.sourceCanReachTarget === false) {
    reasons.push('the source server cannot reach the target (MIGRATE connects from the source)');
  }
  if (source.replication.role === 'replica') {
    reasons.push('source is a replica: MIGRATE is a write command, which a read-only replica rejects');
  }
  const limit = target.protoMaxBulkLen;
  const tooBig = limit === null ? [] : (source.bigKeys?.keys ?? []).filter((k) => k.bytes > limit);
  if (limit !== null && tooBig.length > 0) {
    reasons.push(
      `MIGRATE cannot split keys, and ${plural(tooBig.length, 'sampled key')} exceed the target's ` +
        `proto-max-bulk-len of ${formatBytes(limit)}`,
    );
  }
  return { strategy: 'migrate', viable: reasons.length === 0, reasons };
}
