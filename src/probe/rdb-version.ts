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
 * The RDB version a Redis release writes, for when no DUMP payload can be had. Forks report the
 * Redis version they are compatible with in `redis_version`, which is what is passed here.
 */
export function rdbVersionForServer(redisVersion: string): number {
  const [major, minor] = parseVersion(redisVersion);
  if (major >= 8 || (major === 7 && minor >= 4)) return 12;
  if (major === 7 && minor >= 2) return 11;
  if (major === 7) return 10;
  if (major === 5 || major === 6) return 9;
  if (major === 4) return 8;
  if (major === 3 && minor >= 2) return 7;
  return 6; // 2.8 up to 3.0
}
