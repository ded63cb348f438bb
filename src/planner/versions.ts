// Version comparisons between servers, and whether one server can take the other's RDB format
// (the tables are in probe/rdb-version.ts).
import { rdbAccepted } from '../probe/rdb-version.js';
import type { ProbeResult } from '../probe/types.js';

/** Compares dotted versions numerically ("7.2.4" > "7.0.15"); missing or odd parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((p) => Number.parseInt(p, 10) || 0);
  const pb = b.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

type Server = Pick<ProbeResult['server'], 'flavor' | 'version' | 'flavorVersion' | 'rdbVersion'>;

/** The release's own version: a fork's (`valkey_version`), else `redis_version` (Valkey says 7.2.4 there). */
export function releaseVersion(server: Server): string {
  return server.flavorVersion ?? server.version;
}

/** "redis 7.0.15", "valkey 8.1.1". */
export function releaseName(server: Server): string {
  return `${server.flavor} ${releaseVersion(server)}`;
}

/**
 * Why the target cannot load the source's RDB format (replication's full sync, RESTORE of its
 * DUMP payloads), or undefined when it can: an older format, or one Valkey keeps for other
 * projects' formats (Redis 7.4+'s 12 and up, refused under its default rdb-version-check strict).
 */
export function rdbRefusal(source: Server, target: Server): string | undefined {
  if (rdbAccepted(source.rdbVersion, target)) return undefined;
  const theirs = `${target.rdbVersion} (${releaseName(target)})`;
  const ours = `${source.rdbVersion} (${releaseName(source)})`;
  if (source.rdbVersion > target.rdbVersion)
    return `target's RDB format ${theirs} is older than the source's ${ours}`;
  return (
    `target's RDB format ${theirs} does not take the source's ${ours}: Valkey refuses RDB 12 to 79, ` +
    "other projects' formats (Redis 7.4+), under its default rdb-version-check strict"
  );
}

/**
 * A same-flavor downgrade by release (Valkey 9.1 -> 9.0 share an RDB format, yet a replica of an
 * older release may not know what a newer one sends): the reason, or undefined.
 */
export function releaseDowngrade(source: Server, target: Server): string | undefined {
  if (source.flavor !== target.flavor) return undefined;
  if (compareVersions(releaseVersion(target), releaseVersion(source)) >= 0) return undefined;
  return `target runs ${releaseName(target)}, older than the source's ${releaseVersion(source)}`;
}

/** Why the target cannot RESTORE the source's payloads (an older release or RDB format), or undefined. */
export function payloadDowngrade(source: Server, target: Server): string | undefined {
  return releaseDowngrade(source, target) ?? rdbRefusal(source, target);
}
