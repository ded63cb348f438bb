// The RDB format version a server writes into DUMP payloads (and the highest RESTORE accepts).
import { parseVersion } from './info.js';

/** Length of the trailer every DUMP payload ends with: 2-byte RDB version + 8-byte CRC64. */
const TRAILER_BYTES = 10;

/**
 * A DUMP payload is `<type><value><rdb version: uint16 LE><crc64: 8 bytes>`, so the version sits
 * in the 2 bytes before the last 8. Returns null for anything too short to be a payload.
 */
export function rdbVersionFromDump(payload: Buffer): number | null {
  if (payload.length <= TRAILER_BYTES) return null;
  const version = payload.readUInt16LE(payload.length - TRAILER_BYTES);
  return version > 0 ? version : null;
}

/**
 * The RDB version a release writes, for when no DUMP payload can be had. Forks report the Redis
 * version they are compatible with in `redis_version` (Valkey 7.2 to 9.x all say 7.2.4), so a
 * fork's own version (`valkey_version`) decides for it. From `src/rdb.h` at each release:
 * Redis 7.0 = 10, 7.2 = 11, 7.4 to 8.4 = 12, 8.6 = 13 (stream IDMP, key metadata); Valkey 7.2 to
 * 8.x = 11, 9.0 and 9.1 = 80, 9.2 = 81 (its RDB_VERSION_MAP). Checked on the real servers:
 * Redis 7.0.15 DUMPs 10, Redis 8.0.2 12, Valkey 8.1.1 11 (test/integration/servers.test.ts).
 */
export function rdbVersionForServer(redisVersion: string, flavor = 'redis', flavorVersion?: string): number {
  if (flavor === 'valkey' && flavorVersion) {
    const [major, minor] = parseVersion(flavorVersion);
    if (major > 9 || (major === 9 && minor >= 2)) return 81;
    if (major === 9) return 80;
    return 11;
  }
  const [major, minor] = parseVersion(redisVersion);
  if (major > 8 || (major === 8 && minor >= 6)) return 13;
  if (major === 8 || (major === 7 && minor >= 4)) return 12;
  if (major === 7 && minor >= 2) return 11;
  if (major === 7) return 10;
  if (major === 5 || major === 6) return 9;
  if (major === 4) return 8;
  if (major === 3 && minor >= 2) return 7;
  return 6; // 2.8 up to 3.0
}

/**
 * Valkey keeps RDB 12 to 79 for formats of other projects (Redis 7.4+): with its default
 * `rdb-version-check strict` it refuses them, even though its own 80 is a higher number.
 */
const FOREIGN_TO_VALKEY = { min: 12, max: 79 } as const;

/**
 * Whether a server of this flavor and RDB version loads an RDB (a replica's full sync) or
 * RESTOREs a DUMP payload of version `rdb`. Redis takes any version up to its own; Valkey the
 * same except the foreign range (above). `rdb-version-check relaxed` (Valkey 8.1+) tries more,
 * best effort, and is not assumed.
 */
export function rdbAccepted(rdb: number, target: { flavor: string; rdbVersion: number }): boolean {
  if (rdb > target.rdbVersion) return false;
  if (target.flavor === 'valkey' && rdb >= FOREIGN_TO_VALKEY.min && rdb <= FOREIGN_TO_VALKEY.max)
    return false;
  return true;
}
