// When replication is possible: the target can become a replica (REPLICAOF, CONFIG SET), the source
// serves a replica (PSYNC or SYNC), the target can load the source's RDB, and the whole dataset
// moves (it cannot honour a subset or keep the target's keys).
import { type PlanContext, unavailable } from '../../planner/context.js';
import { librariesText, targetLibraries } from '../../planner/functions.js';
import { modeReasons } from '../../planner/server-modes.js';
import { formatDbs, plural } from '../../planner/units.js';
import { compareVersions } from '../../planner/versions.js';
import type { Assessment } from '../strategy.js';

/** Reasons that only concern copying part of the data; replication copies everything. */
function subsetReasons(ctx: PlanContext): string[] {
  const out: string[] = [];
  if (ctx.options.match !== undefined) {
    out.push(`replication copies every key: it cannot honour --match "${ctx.options.match}"`);
  }
  const remap = ctx.options.dbRemap;
  if (remap) {
    out.push(
      `replication copies every database into the same number: it cannot copy db ${remap.from} into db ${remap.to} ` +
        '(the databases in the URLs)',
    );
  } else if (ctx.options.dbsFromUrl) {
    out.push(
      `replication copies every database: it cannot copy only ${formatDbs(ctx.dbs)}, which the URL selects ` +
        `(drop the /${ctx.dbs[0]} from both URLs to copy every database)`,
    );
  } else if (ctx.leftOutDbs.length > 0) {
    out.push(
      `replication copies every database: it cannot leave out ${formatDbs(ctx.leftOutDbs)} ` +
        `(asked for ${formatDbs(ctx.dbs)})`,
    );
  }
  return out;
}

export function assessReplication(ctx: PlanContext): Assessment {
  const { source, target, options } = ctx;
  const reasons = modeReasons(ctx);
  const noReplicaof = unavailable(ctx, 'target', 'REPLICAOF');
  if (noReplicaof) reasons.push(noReplicaof);
  const noConfigSet = unavailable(ctx, 'target', 'CONFIG SET');
  if (noConfigSet) reasons.push(`${noConfigSet} (needed for masterauth and replica-read-only)`);
  const noPsync = unavailable(ctx, 'source', 'PSYNC');
  const noSync = unavailable(ctx, 'source', 'SYNC');
  if (noPsync && noSync) {
    const psyncWhy = source.commands.PSYNC?.reason ?? 'not found by the probe';
    const syncWhy = source.commands.SYNC?.reason ?? 'not found by the probe';
    reasons.push(
      psyncWhy === syncWhy
        ? `PSYNC and SYNC are not available on source: ${psyncWhy} (a replica cannot sync from it)`
        : `${noPsync}; nor SYNC: ${syncWhy} (a replica cannot sync from it)`,
    );
  }
  const sameFlavor = source.server.flavor === target.server.flavor;
  if (sameFlavor && compareVersions(target.server.version, source.server.version) < 0) {
    reasons.push(
      `target runs ${target.server.flavor} ${target.server.version}, older than the source's ` +
        `${source.server.version}: a replica cannot load a newer server's RDB`,
    );
  } else if (ctx.downgrade) {
    reasons.push(
      `target's RDB format ${target.server.rdbVersion} is older than the source's ${source.server.rdbVersion}: ` +
        'a replica cannot load a newer RDB',
    );
  }
  if (ctx.modulesMissingOnTarget.length > 0) {
    reasons.push(
      `target lacks module ${ctx.modulesMissingOnTarget.join(', ')} loaded on the source: ` +
        'a replica must load the same modules to read the RDB',
    );
  }
  if (options.byType) {
    reasons.push('--by-type asks for a key-by-key copy, and replication copies the whole dataset as an RDB');
  }
  if (options.targetCanReachSource === false) {
    reasons.push('the target cannot reach the source (a replica connects to its master)');
  }
  const libs = targetLibraries(ctx);
  if ((ctx.targetKeysTotal > 0 || libs > 0) && options.onNonEmptyTarget !== 'flush') {
    const held = [
      ctx.targetKeysTotal > 0 ? plural(ctx.targetKeysTotal, 'key') : '',
      libs > 0 ? librariesText(libs) : '',
    ].filter(Boolean);
    reasons.push(
      `replication discards the whole target, which holds ${held.join(' and ')}: ` +
        'only --flush-target allows that',
    );
  }
  const subset = subsetReasons(ctx);
  return {
    strategy: 'replication',
    viable: reasons.length + subset.length === 0,
    reasons: [...reasons, ...subset],
    subsetOnly: reasons.length === 0 && subset.length > 0,
  };
}
