// When psync is possible: the tool itself is the replica, so the source must serve PSYNC to the
// tool's user, while the target only takes RESTORE (a managed target that forbids REPLICAOF is the
// case it is for). The RDB's payloads go to the target as they are when it reads them; onto an older
// target (6.2 or newer) the full sync writes them type by type (engine/restore/write-method.ts).
import { type PlanContext, unavailable } from '../../planner/context.js';
import { modeReasons } from '../../planner/server-modes.js';
import { compareVersions, payloadDowngrade } from '../../planner/versions.js';
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
  const downgrade = payloadDowngrade(source.server, target.server);
  if (downgrade && compareVersions(target.server.version, BY_TYPE_MIN_VERSION) < 0) {
    reasons.push(
      `${downgrade}: the target cannot RESTORE the source's payloads, and writing them type by type needs ` +
        `Redis ${BY_TYPE_MIN_VERSION} or newer`,
    );
  } else if (downgrade && options.strategy !== 'psync') {
    // The stream's commands go as they are, and one only the newer release knows would stop the live
    // phase: auto takes dump-restore's by-type copy, which writes every change with the target's commands.
    reasons.push(
      `${downgrade}: psync would write the full sync type by type and send the stream's commands as they are; ` +
        'ask for it with --strategy psync',
    );
  }
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

/** The oldest target the by-type writer serves (the commands it sends: SET PXAT, XSETID, ...). */
const BY_TYPE_MIN_VERSION = '6.2.0';

/** Why psync fits, for the plan (the planner says first why the strategies above it do not). */
export function psyncBecause(): string {
  return 'source allows PSYNC: the tool replicates it (the RDB from a forked child, then every write in order)';
}
