// Facts derived once from the two probes and the options, shared by every rule module.
import { targetDbOf } from '../engine/db-mapping.js';
import { CORE_TYPES } from '../probe/module-keys.js';
import type { DatabaseStats, ProbedCommand, ProbeResult } from '../probe/types.js';
import { rdbRange } from './cluster-facts.js';
import { type CopyRate, copyRate, copySecondsAt, type MeasuredRates } from './copy-rate.js';
import type { PlanOptions, StrategyName } from './types.js';
import { rdbRefusal } from './versions.js';

export type Side = 'source' | 'target';

export interface PlanContext {
  source: ProbeResult;
  target: ProbeResult;
  options: PlanOptions;
  /** Databases the copy covers, ascending: the asked list, or every source db holding keys. */
  dbs: number[];
  /** Source dbs holding keys that an explicit db list leaves out. */
  leftOutDbs: number[];
  /** Keys in the selected source dbs (an upper bound when --match narrows the copy). */
  keys: number;
  /** Estimated bytes to copy: source used memory, scaled down to the selected dbs. */
  bytes: number;
  /** What the copy-time estimate divides by (copy-rate.ts): for the strategy planned. */
  copyRate: CopyRate;
  copySeconds: number;
  /** Rates the last copies between these two servers measured, per strategy (from the use case). */
  rates: MeasuredRates;
  /** Target databases the copy writes into (the same numbers as dbs unless the URLs remap). */
  targetDbs: number[];
  /** Target databases the copy writes into that already hold keys. */
  targetBusyDbs: DatabaseStats[];
  /** Keys on the target in any db (replication discards all of them). */
  targetKeysTotal: number;
  /**
   * The target cannot load the source's RDB format (older, or Valkey's foreign range): DUMP
   * payloads and replication can't cross. versions.ts's rdbRefusal says why.
   */
  downgrade: boolean;
  /** Module types among the sampled keys (big keys of the selected dbs, or the probe's module-key sample): proof that module keys exist. */
  moduleTypesSampled: string[];
  /** Modules loaded on the source but not on the target. */
  modulesMissingOnTarget: string[];
  /** Both endpoints point at the same host and port. */
  sameServer: boolean;
  /** The source URL carries a password, so a replica needs masterauth. */
  sourceHasPassword: boolean;
  /** ACL user in the source URL (a replica needs masteruser), null for the default user. */
  sourceUser: string | null;
}

export function buildContext(
  source: ProbeResult,
  target: ProbeResult,
  options: PlanOptions,
  rates: MeasuredRates = {},
): PlanContext {
  const given = options.estimatedKeysPerSecond;
  if (given !== undefined && !(given > 0)) throw new RangeError('estimatedKeysPerSecond must be positive');
  const sourceDbs = source.databases.filter((d) => d.keys > 0).map((d) => d.db);
  const dbs =
    options.dbs === 'all'
      ? [...sourceDbs].sort((a, b) => a - b)
      : [...new Set(options.dbs)].sort((a, b) => a - b);
  const selected = new Set(dbs);
  const targetDbs = dbs.map((db) => targetDbOf({ remap: options.dbRemap }, db));
  const keys = source.databases.filter((d) => selected.has(d.db)).reduce((n, d) => n + d.keys, 0);
  const share = source.totalKeys > 0 ? Math.min(1, keys / source.totalKeys) : 1;
  const bytes = Math.round(source.memory.usedBytes * share);
  const sourceModules = new Set(source.modules.map((m) => m.name));
  const targetModules = new Set(target.modules.map((m) => m.name));
  const moduleTypes = new Set([
    ...(source.bigKeys?.keys ?? [])
      .filter((k) => selected.has(k.db) && !CORE_TYPES.has(k.type))
      .map((k) => k.type),
    ...(source.moduleKeys?.types ?? []).filter((t) => selected.has(t.db)).map((t) => t.type),
  ]);
  return {
    source,
    target,
    options,
    dbs,
    leftOutDbs: sourceDbs.filter((db) => !selected.has(db)).sort((a, b) => a - b),
    keys,
    bytes,
    // Until a strategy is chosen (auto), the asked one's rate or the fallback: see withStrategyRate.
    ...estimate(keys, options, rates, options.strategy === 'auto' ? null : options.strategy),
    rates,
    targetDbs,
    targetBusyDbs: target.databases.filter((d) => targetDbs.includes(d.db) && d.keys > 0),
    targetKeysTotal: target.databases.reduce((n, d) => n + d.keys, 0),
    // A cluster's primaries may differ: the newest source format must load on the oldest target.
    downgrade:
      rdbRefusal(source.server, target.server) !== undefined || rdbRange(target).min < rdbRange(source).max,
    moduleTypesSampled: [...moduleTypes].sort(),
    modulesMissingOnTarget: [...sourceModules].filter((m) => !targetModules.has(m)).sort(),
    sameServer: hostPort(source.endpoint.redactedUrl) === hostPort(target.endpoint.redactedUrl),
    sourceHasPassword: /^[a-z][a-z0-9+.-]*:\/\/[^/@]*\*\*\*@/i.test(source.endpoint.redactedUrl),
    sourceUser: urlUser(source.endpoint.redactedUrl),
  };
}

/** The context with the copy rate (and so the copy time) of the strategy the plan takes. */
export function withStrategyRate(ctx: PlanContext, strategy: StrategyName | null): PlanContext {
  return { ...ctx, ...estimate(ctx.keys, ctx.options, ctx.rates, strategy) };
}

function estimate(
  keys: number,
  options: PlanOptions,
  rates: MeasuredRates,
  strategy: StrategyName | null,
): Pick<PlanContext, 'copyRate' | 'copySeconds'> {
  const rate = copyRate(strategy, rates, options.estimatedKeysPerSecond);
  return { copyRate: rate, copySeconds: copySecondsAt(keys, rate) };
}

/** Why a command is unusable on one side, phrased for people; undefined when it works. */
export function unavailable(ctx: PlanContext, side: Side, command: ProbedCommand): string | undefined {
  const found = ctx[side].commands[command];
  if (found?.available) return undefined;
  return `${command} is not available on ${side}: ${found?.reason ?? 'not found by the probe'}`;
}

export function isAvailable(ctx: PlanContext, side: Side, command: ProbedCommand): boolean {
  return Boolean(ctx[side].commands[command]?.available);
}

/** "host:port" of a (redacted) URL, lower-cased; the URL itself when it does not parse. */
function hostPort(url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?([^/?#]+)/i.exec(url);
  if (!m) return url;
  const host = m[1]!.toLowerCase();
  return /:\d+$/.test(host) ? host : `${host}:6379`;
}

function urlUser(url: string): string | null {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^:@/]+):[^@/]*@/i.exec(url);
  if (!m || m[1] === 'default') return null;
  return decodeURIComponent(m[1]!);
}
