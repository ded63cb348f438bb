// When psync is possible: the tool itself is the replica, so the source must serve PSYNC to the
// tool's user, while the target only takes RESTORE (a managed target that forbids REPLICAOF is the
// case it is for). The RDB's payloads go to the target as they are, so the target must read them.
import { type PlanContext, unavailable } from '../../planner/context.js';
import { modeReasons } from '../../planner/server-modes.js';
import { rdbRefusal, releaseDowngrade } from '../../planner/versions.js';
import type { Assessment } from '../strategy.js';

export function assessPsync(ctx: PlanContext): Assessment {
  const { source, target, options } = ctx;
  const reasons = modeReasons(ctx, 'psync');
  for (const side of ['source', 'target'] as const) {
    if (ctx[side].server.mode === 'cluster') {
      reasons.push(`${side} is a Redis Cluster: psync reads one standalone server's replication stream`);
    }
  }
  const noPsync = unavailable(ctx, 'source', 'PSYNC');
  if (noPsync) reasons.push(`${noPsync} (the tool connects to the source as a replica)`);
  const noRestore = unavailable(ctx, 'target', 'RESTORE');
  if (noRestore) reasons.push(`${noRestore} (the RDB's values are written with RESTORE)`);
  const older = releaseDowngrade(source.server, target.server);
  const refused = rdbRefusal(source.server, target.server);
  if (older) reasons.push(`${older}: the target cannot RESTORE a newer server's payloads`);
  else if (refused) reasons.push(`${refused}: RESTORE rejects the payloads of the source's RDB`);
  if (ctx.modulesMissingOnTarget.length > 0) {
    reasons.push(
      `target lacks module ${ctx.modulesMissingOnTarget.join(', ')} loaded on the source: its keys in the RDB ` +
        'cannot be restored',
    );
  }
  if (options.byType) reasons.push('--by-type asks for a copy type by type; psync restores the RDB payloads');
  if (options.match !== undefined) {
    reasons.push(
      `psync mirrors every write of the replication stream: it cannot honour --match "${options.match}"`,
    );
  }
  return { strategy: 'psync', viable: reasons.length === 0, reasons };
}

/** Why psync fits, for the plan (the planner says first why the strategies above it do not). */
export function psyncBecause(): string {
  return 'source allows PSYNC: the tool replicates it (the RDB from a forked child, then every write in order)';
}
