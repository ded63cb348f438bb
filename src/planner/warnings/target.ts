// Warnings about the target: memory, eviction, databases, what gets overwritten or flushed.
import { targetLibrariesFate } from '../functions.js';
import type { Finding } from '../types.js';
import { formatDbs, formatMib, plural } from '../units.js';
import type { WarningInput } from './input.js';

export function targetWarnings({ ctx, strategy }: WarningInput): Finding[] {
  const out: Finding[] = [];
  const { target, source, options } = ctx;
  const { maxmemoryBytes, policy } = target.memory;
  const used = source.memory.usedBytes;
  const partial = options.match !== undefined || ctx.leftOutDbs.length > 0;
  if (maxmemoryBytes === null) {
    out.push({
      code: 'target-memory-unknown',
      message: `target maxmemory could not be read: make sure it can hold the source's ${formatMib(used)}`,
    });
  } else if (maxmemoryBytes > 0 && maxmemoryBytes < used && partial) {
    out.push({
      code: 'target-memory-partial',
      message:
        `target maxmemory is ${formatMib(maxmemoryBytes)}, smaller than the source's used memory of ` +
        `${formatMib(used)}; only part of the data is copied (--match/--db), so it may fit: check before starting`,
    });
  } else if (maxmemoryBytes > 0 && maxmemoryBytes >= used && maxmemoryBytes < used * 1.2) {
    out.push({
      code: 'target-memory-headroom',
      message:
        `target maxmemory (${formatMib(maxmemoryBytes)}) leaves under 20% headroom over the source's used ` +
        `memory (${formatMib(used)}): writes during the migration and fragmentation may reach it`,
    });
  }
  if (policy === null) {
    out.push({
      code: 'target-policy-unknown',
      message: 'target maxmemory-policy could not be read: make sure it is noeviction for the migration',
    });
  } else if (policy !== 'noeviction' && maxmemoryBytes === 0) {
    out.push({
      code: 'target-policy-inactive',
      message: `target maxmemory-policy is ${policy}, harmless while maxmemory is 0 (no limit); set noeviction if a limit is added`,
    });
  }
  const highest = ctx.dbs.length > 0 ? Math.max(...ctx.dbs) : 0;
  if (target.configuredDatabases === null && highest > 0) {
    out.push({
      code: 'target-databases-unknown',
      message: `the target's number of databases could not be read and the copy uses db ${highest}: make sure it exists`,
    });
  }
  if (options.onNonEmptyTarget === 'flush') {
    out.push({
      code: 'target-flush',
      message:
        strategy === 'replication'
          ? `--flush-target: replication discards everything on the target (${plural(ctx.targetKeysTotal, 'key')} now, all dbs)`
          : `--flush-target: ${formatDbs(ctx.dbs)} on the target are emptied (FLUSHDB) before the copy ` +
            `(${plural(busyKeys(ctx.targetBusyDbs), 'key')} there now); this cannot be undone`,
    });
  }
  if (options.onNonEmptyTarget === 'replace' && ctx.targetBusyDbs.length > 0 && strategy !== 'replication') {
    out.push({
      code: 'target-replace',
      message:
        `--replace: the target holds ${plural(busyKeys(ctx.targetBusyDbs), 'key')} in the databases to copy; ` +
        'keys that also exist on the source are overwritten, the others stay (verify reports them as extra)',
    });
  }
  const libraries = targetLibrariesFate(ctx, strategy);
  if (libraries) out.push({ code: 'target-functions', message: libraries });
  return out;
}

function busyKeys(dbs: { keys: number }[]): number {
  return dbs.reduce((n, d) => n + d.keys, 0);
}
