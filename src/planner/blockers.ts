// Findings that stop every strategy: running any of them would lose data, break the target, or
// do something nobody asked for. Each says what to change.

import { isClusterProbe } from './cluster-facts.js';
import type { PlanContext } from './context.js';
import { fieldTtlBlockers } from './field-ttls.js';
import { librariesText, targetLibraries } from './functions.js';
import { clusterBlockers } from './topology.js';
import type { Finding, StrategyAssessment, StrategyName } from './types.js';
import { formatDbs, formatMib, plural } from './units.js';

export function findBlockers(ctx: PlanContext): Finding[] {
  return [
    ...sameServer(ctx),
    ...topology(ctx),
    ...clusterBlockers(ctx),
    ...memory(ctx),
    ...nonEmptyTarget(ctx),
    ...databases(ctx),
    ...modules(ctx),
    ...functions(ctx),
    ...fieldTtlBlockers(ctx),
  ];
}

function sameServer(ctx: PlanContext): Finding[] {
  const { source, target } = ctx;
  if (source.endpoint.redactedUrl !== target.endpoint.redactedUrl && !ctx.sameServer) return [];
  return [
    {
      code: 'same-endpoint',
      message: `source and target are the same server (${target.endpoint.redactedUrl}): pick two different servers`,
    },
  ];
}

function topology(ctx: PlanContext): Finding[] {
  const out: Finding[] = [];
  for (const side of ['source', 'target'] as const) {
    if (ctx[side].server.mode === 'sentinel') {
      out.push({
        code: 'sentinel-endpoint',
        message: `${side} is a Sentinel, not a data server: give the address of the master it monitors`,
      });
    }
  }
  const repl = ctx.target.replication;
  // A cluster named through a replica node is written through its primaries.
  if (repl.role === 'replica' && !isClusterProbe(ctx.target)) {
    const master = repl.masterHost ? ` of ${repl.masterHost}:${repl.masterPort ?? 6379}` : '';
    out.push({
      code: 'target-is-replica',
      message:
        `target is a replica${master}: it rejects writes and is wiped on its next resync; ` +
        'promote it (REPLICAOF NO ONE) or pick a primary',
    });
  }
  return out;
}

function memory(ctx: PlanContext): Finding[] {
  const out: Finding[] = [];
  const { maxmemoryBytes, policy } = ctx.target.memory;
  const used = ctx.source.memory.usedBytes;
  // A partial copy (--match, some dbs) may fit: that case is a warning, not a blocker.
  const partial = ctx.options.match !== undefined || ctx.leftOutDbs.length > 0;
  // A cluster target is checked shard by shard (./topology.ts).
  if (maxmemoryBytes && maxmemoryBytes < used && !partial && !isClusterProbe(ctx.target)) {
    out.push({
      code: 'target-too-small',
      message:
        `target maxmemory is ${formatMib(maxmemoryBytes)}, smaller than the source's used memory of ` +
        `${formatMib(used)}: raise it on the target (or pick a bigger one)`,
    });
  }
  // With no memory limit (maxmemory 0) the policy never fires; unknown limit counts as a limit.
  if (policy !== null && policy !== 'noeviction' && maxmemoryBytes !== 0) {
    out.push({
      code: 'target-evicting-policy',
      message:
        `target maxmemory-policy is ${policy}: keys can be evicted silently during the import; ` +
        'set maxmemory-policy noeviction on the target for the migration',
    });
  }
  return out;
}

/** Keys in the databases to copy, or function libraries (server-wide): either makes it not empty. */
function nonEmptyTarget(ctx: PlanContext): Finding[] {
  const libs = targetLibraries(ctx);
  if (ctx.options.onNonEmptyTarget !== 'refuse' || (ctx.targetBusyDbs.length === 0 && libs === 0)) return [];
  const held: string[] = [];
  if (ctx.targetBusyDbs.length > 0) {
    const total = ctx.targetBusyDbs.reduce((n, d) => n + d.keys, 0);
    const per = ctx.targetBusyDbs.map((d) => `db ${d.db}: ${plural(d.keys, 'key')}`).join(', ');
    held.push(`${plural(total, 'key')} in the databases to copy (${per})`);
  }
  if (libs > 0) held.push(librariesText(libs));
  const replace =
    libs > 0
      ? "overwrite keys and function libraries that exist on both (the target's other libraries stay)"
      : 'overwrite keys that exist on both';
  const flush =
    libs > 0
      ? "empty those databases first and replace the target's function libraries with the source's"
      : 'empty them first';
  return [
    {
      code: 'target-not-empty',
      message: `target already holds ${held.join(' and ')}: use --replace to ${replace}, or --flush-target to ${flush}`,
    },
  ];
}

function databases(ctx: PlanContext): Finding[] {
  const out: Finding[] = [];
  const highest = ctx.targetDbs.length > 0 ? Math.max(...ctx.targetDbs) : -1;
  const targetDbs = ctx.target.configuredDatabases;
  // A cluster target has db 0 only: ./topology.ts says which source databases cannot go there.
  if (highest >= 0 && targetDbs !== null && highest >= targetDbs && !isClusterProbe(ctx.target)) {
    out.push({
      code: 'target-too-few-databases',
      message:
        `the copy uses db ${highest} but the target has only ${plural(targetDbs, 'database')} ` +
        `(databases ${targetDbs}): raise databases on the target or leave those dbs out with --db`,
    });
  }
  const sourceDbs = ctx.source.configuredDatabases;
  if (ctx.options.dbs !== 'all' && sourceDbs !== null) {
    const missing = ctx.dbs.filter((db) => db >= sourceDbs);
    if (missing.length > 0) {
      out.push({
        code: 'db-not-on-source',
        message: `${formatDbs(missing)} does not exist on the source (databases ${sourceDbs})`,
      });
    }
  }
  return out;
}

function modules(ctx: PlanContext): Finding[] {
  const out: Finding[] = [];
  const types = ctx.moduleTypesSampled;
  if (types.length === 0) return out;
  // Module keys travel only as DUMP payloads (or in an RDB): with an older target format there is
  // no path for them at all; the type-by-type fallback cannot express them.
  if (ctx.downgrade) {
    out.push({
      code: 'module-keys-cannot-cross',
      message:
        `the source holds keys of module types (${types.join(', ')}): they travel only as DUMP payloads, ` +
        `which the target's older RDB format ${ctx.target.server.rdbVersion} rejects, and cannot be copied ` +
        'type by type; use a target on the same or a newer version',
    });
  }
  if (ctx.modulesMissingOnTarget.length > 0) {
    out.push({
      code: 'module-missing-on-target',
      message:
        `the source holds keys of module types (${types.join(', ')}) but the target lacks module ` +
        `${ctx.modulesMissingOnTarget.join(', ')}: load it on the target first`,
    });
  }
  return out;
}

function functions(ctx: PlanContext): Finding[] {
  const libs = ctx.source.functionLibraries ?? 0;
  if (libs === 0 || ctx.target.functionLibraries !== null) return [];
  return [
    {
      code: 'functions-unsupported-on-target',
      message:
        `the source has ${plural(libs, 'function library', 'function libraries')} but the target ` +
        `(${ctx.target.server.flavor} ${ctx.target.server.version}) has no functions: apps calling FCALL ` +
        'would break; delete unused libraries on the source or pick a Redis 7+ target',
    },
  ];
}

/** A blocker when the asked strategy is ruled out, or (auto) when every strategy is. */
export function strategyBlockers(
  asked: 'auto' | StrategyName,
  assessments: readonly StrategyAssessment[],
): Finding[] {
  if (asked !== 'auto') {
    const a = assessments.find((x) => x.strategy === asked);
    if (!a || a.viable) return [];
    return [
      {
        code: 'strategy-not-viable',
        message: `${asked} was asked for but is not possible: ${a.reasons.join('; ')}`,
      },
    ];
  }
  if (assessments.some((a) => a.viable)) return [];
  return [
    {
      code: 'no-viable-strategy',
      message: `no strategy can run: ${assessments.map((a) => `${a.strategy}: ${a.reasons.join('; ')}`).join(' | ')}`,
    },
  ];
}
