// planMigration: two probes and the options in, a plan out. Pure: no I/O, no clock, no randomness,
// so the same inputs always give the same plan (and the same step parameters to approve).
import type { ProbeResult } from '../probe/types.js';
import { STRATEGIES_BEST_FIRST, STRATEGY_TABLE } from '../strategies/index.js';
import { findBlockers, strategyBlockers } from './blockers.js';
import { buildContext, type PlanContext, withStrategyRate } from './context.js';
import { copyPath } from './copy-path.js';
import type { MeasuredRates } from './copy-rate.js';
import type { Plan, PlanOptions, StrategyAssessment, StrategyName } from './types.js';
import { formatDbs } from './units.js';
import { findWarnings } from './warnings/index.js';

/**
 * `rates`: what the last copies between these two servers measured, per strategy (the use case
 * reads them from the control Redis); the copy-time estimate uses the chosen strategy's.
 */
export function planMigration(
  source: ProbeResult,
  target: ProbeResult,
  options: PlanOptions,
  rates: MeasuredRates = {},
): Plan {
  const base = buildContext(source, target, options, rates);
  const path = copyPath(base);
  const assessed = STRATEGIES_BEST_FIRST.map((s) => s.assess(base, path));
  const assessments: StrategyAssessment[] = assessed.map(({ subsetOnly: _, ...a }) => a);
  const candidate = chooseStrategy(options.strategy, assessments);
  // The estimate (and the warnings and step texts quoting it) is for the strategy taken.
  const ctx = withStrategyRate(base, candidate ?? (options.strategy === 'auto' ? null : options.strategy));
  const blockers = [...findBlockers(ctx), ...strategyBlockers(options.strategy, assessments)];
  const warnings = findWarnings({
    ctx,
    path,
    strategy: candidate,
    copiesKeys: candidate !== null && STRATEGY_TABLE[candidate].copiesKeys,
    replicationOutForSubsetOnly: assessed.some((a) => a.strategy === 'replication' && a.subsetOnly),
  });
  const strategy = blockers.length === 0 ? candidate : null;
  const copies = strategy !== null && STRATEGY_TABLE[strategy].copiesKeys;
  return {
    source: { ...source.endpoint, version: source.server.version },
    target: { ...target.endpoint, version: target.server.version },
    strategy,
    candidate,
    ...(candidate ? { because: chosenBecause(ctx, path, options.strategy, candidate, assessments) } : {}),
    // MIGRATE always moves DUMP payloads, server side.
    copyMode: strategy === 'migrate' ? 'dump' : copies ? path.copyMode : null,
    copyModeReasons: strategy === 'dump-restore' ? path.byTypeBecause : [],
    liveSync: copies ? path.liveSync : null,
    assessments,
    blockers,
    warnings,
    steps: strategy ? STRATEGY_TABLE[strategy].steps(ctx, path) : [],
    estimates: {
      keys: ctx.keys,
      bytes: ctx.bytes,
      copySeconds: ctx.copySeconds,
      keysPerSecond: ctx.copyRate.keysPerSecond,
      rateFrom: ctx.copyRate.from,
    },
    databases: databasesLine(ctx),
    options,
  };
}

/**
 * Why the candidate was taken: asked for, or (auto) each better strategy's first reason, then the
 * candidate's own words, e.g. "replication: REPLICAOF is not available on target: ...; source allows PSYNC: ...".
 */
function chosenBecause(
  ctx: PlanContext,
  path: ReturnType<typeof copyPath>,
  asked: PlanOptions['strategy'],
  chosen: StrategyName,
  assessments: readonly StrategyAssessment[],
): string {
  const own = STRATEGY_TABLE[chosen].because?.(ctx, path);
  if (asked !== 'auto')
    return own ? `asked for (--strategy ${chosen}); ${own}` : `asked for (--strategy ${chosen})`;
  const better = assessments.slice(
    0,
    assessments.findIndex((a) => a.strategy === chosen),
  );
  const out = better.map((a) => `${a.strategy} is ruled out (${a.reasons[0] ?? 'not possible'})`);
  return [...out, own ?? `${chosen} is the first possible strategy`].join('; ');
}

/** Which databases are copied and where, and why (a URL's database, --db, or every db). */
function databasesLine(ctx: PlanContext): string {
  const { dbRemap, dbsFromUrl, dbs } = ctx.options;
  if (dbRemap) return `db ${dbRemap.from} -> db ${dbRemap.to} only (the databases in the URLs)`;
  if (dbsFromUrl) return `${formatDbs(ctx.dbs)} only, into the same number (the database in the URL)`;
  const list = ctx.dbs.length ? formatDbs(ctx.dbs) : 'none with keys';
  return dbs === 'all' ? `every database with keys (${list}), each into the same number` : `${list} (--db)`;
}

/** The asked strategy if viable, else (for auto) the first viable one, best first. */
export function chooseStrategy(
  asked: 'auto' | StrategyName,
  assessments: readonly StrategyAssessment[],
): StrategyName | null {
  const viable = (s: StrategyName) => assessments.find((a) => a.strategy === s)?.viable ?? false;
  if (asked !== 'auto') return viable(asked) ? asked : null;
  return assessments.find((a) => a.viable)?.strategy ?? null;
}
