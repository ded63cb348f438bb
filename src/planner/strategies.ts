// Which strategies these two servers allow, and why the others are ruled out. Each rule reads
// the probes' facts; reasons quote the probe's own words ("unknown command (renamed or disabled)").
import { type PlanContext, unavailable } from './context.js';
import type { CopyPath } from './copy-path.js';
import { librariesText, targetLibraries } from './functions.js';
import type { StrategyAssessment, StrategyName } from './types.js';
import { formatBytes, formatDbs, plural } from './units.js';
import { compareVersions } from './versions.js';

/** Best first: replication is native and complete; dump-restore works everywhere, copies from a
 * client and can follow changes live; MIGRATE blocks both servers per batch and needs the source
 * to reach the target. */
export const PREFERENCE: readonly StrategyName[] = ['replication', 'dump-restore', 'migrate'];

function modeReasons(ctx: PlanContext): string[] {
  const out: string[] = [];
  for (const side of ['source', 'target'] as const) {
    const mode = ctx[side].server.mode;
    if (mode === 'cluster') out.push(`${side} is in cluster mode, which is not supported yet`);
    else if (mode === 'sentinel') out.push(`${side} is a Sentinel, not a data server`);
  }
  return out;
}

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

export function assessReplication(ctx: PlanContext): StrategyAssessment & { subsetOnly: boolean } {
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

export function assessDumpRestore(ctx: PlanContext, path: CopyPath): StrategyAssessment {
  const reasons = modeReasons(ctx);
  if (path.copyMode === 'by-type' && ctx.moduleTypesSampled.length > 0) {
    reasons.push(
      `keys of module types (${ctx.moduleTypesSampled.join(', ')}) were sampled on the source and cannot be ` +
        `copied type by type, which is needed because ${path.byTypeBecause.join('; ')}`,
    );
  }
  return { strategy: 'dump-restore', viable: reasons.length === 0, reasons };
}

export function assessMigrate(ctx: PlanContext): StrategyAssessment {
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

/** The asked strategy if viable, else (for auto) the most preferred viable one. */
export function chooseStrategy(
  asked: 'auto' | StrategyName,
  assessments: readonly StrategyAssessment[],
): StrategyName | null {
  const viable = (s: StrategyName) => assessments.find((a) => a.strategy === s)?.viable ?? false;
  if (asked !== 'auto') return viable(asked) ? asked : null;
  return PREFERENCE.find(viable) ?? null;
}
