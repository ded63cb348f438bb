// Warnings about the data: TTLs, big keys, modules, functions, type-by-type copies.
import { unavailable } from '../context.js';
import type { Finding } from '../types.js';
import { formatBytes, formatDbs, formatDuration, plural } from '../units.js';
import { payloadDowngrade } from '../versions.js';
import type { WarningInput } from './input.js';

export function dataWarnings(input: WarningInput): Finding[] {
  return [
    ...selection(input),
    ...shortTtls(input),
    ...bigKeys(input),
    ...modules(input),
    ...functions(input),
    ...copyFormat(input),
  ];
}

function selection({ ctx }: WarningInput): Finding[] {
  const out: Finding[] = [];
  if (ctx.options.dbs !== 'all') {
    const withKeys = new Set(ctx.source.databases.filter((d) => d.keys > 0).map((d) => d.db));
    const empty = ctx.dbs.filter((db) => !withKeys.has(db));
    if (empty.length > 0) {
      out.push({ code: 'empty-db-selected', message: `${formatDbs(empty)} holds no keys on the source` });
    }
  }
  if (ctx.options.dbsFromUrl && ctx.leftOutDbs.length > 0) {
    const db = ctx.dbs[0];
    const left = ctx.source.databases
      .filter((d) => ctx.leftOutDbs.includes(d.db))
      .reduce((n, d) => n + d.keys, 0);
    out.push({
      code: 'url-db-leaves-out',
      message:
        `the source URL ends in /${db}, which selects db ${db} only: ${formatDbs(ctx.leftOutDbs)} ` +
        `(${plural(left, 'key')}) are not copied. Drop the /${db} from both URLs to copy every database`,
    });
  }
  if (ctx.keys === 0) {
    out.push({ code: 'nothing-to-copy', message: 'the source holds no keys in the databases to copy' });
  }
  return out;
}

/**
 * Keys that expire during the copy and are written again later can be missed (pitfall 5). The
 * probe only knows INFO keyspace's average TTL per db, so this is a hint, not a count.
 */
function shortTtls({ ctx, copiesKeys }: WarningInput): Finding[] {
  if (!copiesKeys || ctx.copySeconds <= 0) return [];
  const selected = new Set(ctx.dbs);
  const copyMs = ctx.copySeconds * 1000;
  return ctx.source.databases
    .filter((d) => selected.has(d.db) && d.expires > 0 && d.avgTtlMs > 0 && d.avgTtlMs < copyMs)
    .map((d) => ({
      code: 'short-ttl',
      message:
        `db ${d.db}: ${plural(d.expires, 'key')} with a TTL averaging ${formatDuration(d.avgTtlMs / 1000)} ` +
        `(an average: some expire sooner), shorter than the estimated copy time of ${formatDuration(ctx.copySeconds)}: ` +
        'keys that expire mid-copy and are written again later can be missed until live sync or the final ' +
        'pass catches them; verify counts keys minus expiring keys',
    }));
}

function bigKeys({ ctx, strategy, copiesKeys }: WarningInput): Finding[] {
  if (!copiesKeys) return [];
  const out: Finding[] = [];
  const sample = ctx.source.bigKeys;
  const threshold = ctx.options.bigKeyThresholdBytes;
  if (!sample) {
    if (ctx.keys > 0) {
      out.push({
        code: 'big-keys-not-sampled',
        message: `big keys were not sampled (plan with --big-keys to find keys above ${formatBytes(threshold)} before copying)`,
      });
    }
    return out;
  }
  const selected = new Set(ctx.dbs);
  const keys = sample.keys.filter((k) => selected.has(k.db)).sort((a, b) => b.bytes - a.bytes);
  const limit = ctx.target.protoMaxBulkLen;
  const overLimit = limit === null ? [] : keys.filter((k) => k.bytes > limit);
  const overThreshold = keys.filter((k) => k.bytes > threshold && (limit === null || k.bytes <= limit));
  const largest = (list: typeof keys) => {
    const k = list[0]!;
    return `largest: db ${k.db} "${k.key}" (${k.type}, ${formatBytes(k.bytes)})`;
  };
  if (overLimit.length > 0 && strategy === 'dump-restore') {
    out.push({
      code: 'big-keys-over-bulk-limit',
      message:
        `${plural(overLimit.length, 'sampled key')} exceed the target's proto-max-bulk-len of ` +
        `${formatBytes(limit!)} and cannot be restored in one piece: they are copied type by type in chunks ` +
        `(${largest(overLimit)})`,
    });
  }
  if (overThreshold.length > 0) {
    out.push({
      code: 'big-keys',
      message:
        strategy === 'migrate'
          ? `${plural(overThreshold.length, 'sampled key')} are above ${formatBytes(threshold)}: MIGRATE moves each ` +
            `key whole and blocks both servers while it does (${largest(overThreshold)})`
          : `${plural(overThreshold.length, 'sampled key')} are above ${formatBytes(threshold)} and are copied in ` +
            `chunks, then given their TTL (${largest(overThreshold)})`,
    });
  }
  return out;
}

function modules({ ctx, path, strategy }: WarningInput): Finding[] {
  const loaded = ctx.source.modules;
  if (loaded.length === 0) return [];
  const names = loaded.map((m) => `${m.name} v${m.version}`).join(', ');
  const parts = [
    `the source loads modules (${names}): keys of module types need the same module on the target`,
  ];
  const missing = ctx.modulesMissingOnTarget;
  // With sampled module keys the blockers already say it; without, nobody knows yet.
  if (missing.length > 0 && ctx.moduleTypesSampled.length === 0) {
    parts.push(
      `the target lacks ${missing.join(', ')}, so any key of its types fails to restore ` +
        `(${sampleSaid(ctx.source)})`,
    );
  }
  const older = loaded.filter((m) => {
    const t = ctx.target.modules.find((x) => x.name === m.name);
    return t !== undefined && t.version < m.version;
  });
  if (older.length > 0) {
    parts.push(`the target has older ${older.map((m) => m.name).join(', ')}, whose DUMP format may differ`);
  }
  if (strategy === 'dump-restore' && path.copyMode === 'by-type') {
    parts.push('keys of module types cannot be copied type by type and will fail');
  }
  return [{ code: 'source-modules', message: parts.join('; ') }];
}

/** What the probe's samples say about module keys when they found none. */
function sampleSaid(source: WarningInput['ctx']['source']): string {
  const sample = source.moduleKeys;
  if (sample && sample.sampled >= sample.keys)
    return `none of the source's ${sample.keys} keys is of a module type`;
  if (sample) return `a sample of ${sample.sampled} of ${sample.keys} keys found none`;
  return source.bigKeys ? 'the big-key sample found none' : 'plan with --big-keys to sample key types';
}

function functions({ ctx, strategy }: WarningInput): Finding[] {
  const libs = ctx.source.functionLibraries ?? 0;
  if (libs === 0 || ctx.target.functionLibraries === null) return []; // no functions on target: a blocker
  const what = plural(libs, 'function library', 'function libraries');
  if (strategy === 'replication') {
    return [{ code: 'functions', message: `the source has ${what}: replication carries them to the target` }];
  }
  const missing = [
    unavailable(ctx, 'source', 'FUNCTION DUMP'),
    unavailable(ctx, 'target', 'FUNCTION RESTORE'),
  ];
  const why = missing.filter((m): m is string => m !== undefined);
  if (why.length > 0) {
    return [
      {
        code: 'functions-not-copied',
        message: `the source has ${what} but ${why.join(' and ')}: load them on the target yourself before repointing`,
      },
    ];
  }
  return [
    {
      code: 'functions',
      message: `the source has ${what}, which live outside the keyspace: copied with FUNCTION DUMP/RESTORE`,
    },
  ];
}

function copyFormat({ ctx, path, strategy }: WarningInput): Finding[] {
  const out: Finding[] = [];
  if (strategy === 'dump-restore' && path.copyMode === 'by-type') {
    out.push({
      code: 'by-type-copy',
      message:
        `keys are copied type by type (because ${path.byTypeBecause.join('; ')}); stream consumer groups, ` +
        "consumers and pending entries are recreated, but not consumers' idle times, " +
        'pending entries whose message was deleted, or LRU/LFU data; hash field TTLs are carried with HPEXPIREAT ' +
        'where the target has them',
    });
  }
  if (strategy === 'psync') {
    const downgrade = payloadDowngrade(ctx.source.server, ctx.target.server);
    if (downgrade) {
      out.push({
        code: 'psync-by-type',
        message:
          `${downgrade}: the full sync writes the RDB's keys type by type, not with RESTORE (stream groups and ` +
          "pending entries are recreated, but not consumers' idle times, pending entries whose message was " +
          'deleted, or LRU/LFU data; a hash with field TTLs onto a target without them stops the sync); the ' +
          "replication stream's commands go as they are, so a command only the source's release knows stops " +
          'the live phase, naming it',
      });
    }
  }
  const usesDump = strategy === 'migrate' || (strategy === 'dump-restore' && path.copyMode === 'dump');
  if (usesDump) {
    const { source, target } = ctx;
    // A guessed RDB format is only in doubt when the servers differ; same flavor and version agree.
    const guessed = [source, target].some((p) => p.server.rdbVersionSource === 'version-table');
    const sameBuild =
      source.server.flavor === target.server.flavor && source.server.version === target.server.version;
    if (source.server.flavor !== target.server.flavor || (guessed && !sameBuild)) {
      const why =
        source.server.flavor !== target.server.flavor
          ? `source is ${source.server.flavor} and target is ${target.server.flavor}`
          : 'an RDB format was taken from the version table, not from a DUMP payload';
      out.push({
        code: 'dump-compatibility-unconfirmed',
        message: `${why}: the preflight restores a canary key to confirm the target accepts the source's DUMP payloads`,
      });
    }
  }
  return out;
}
