// The DUMP payload trailer: `<serialized value><RDB version: uint16 LE><CRC-64: uint64 LE>`, the CRC
// covering everything before it. RESTORE rejects a payload whose version is newer than the
// server's own or whose CRC does not match ("DUMP payload version or checksum are wrong").
import { crc64 } from '../rdb/crc64.js';

const TRAILER = 10;

/** The RDB version a payload was written with, or null when it is too short to be one. */
export function payloadRdbVersion(payload: Buffer): number | null {
  if (payload.length < TRAILER + 1) return null;
  return payload.readUInt16LE(payload.length - TRAILER);
}

/** True when the payload's stored CRC-64 matches its content. */
export function payloadChecksumOk(payload: Buffer): boolean {
  if (payload.length < TRAILER + 1) return false;
  const body = payload.subarray(0, payload.length - 8);
  return payload.readBigUInt64LE(payload.length - 8) === crc64(body);
}

/**
 * A copy of the payload claiming another RDB version, with a CRC that matches again: what a newer
 * server would send. Used to exercise the by-type fallback against a same-version target.
 */
export function withRdbVersion(payload: Buffer, version: number): Buffer {
  if (payload.length < TRAILER + 1) throw new Error('not a DUMP payload: too short');
  const out = Buffer.from(payload);
  out.writeUInt16LE(version, out.length - TRAILER);
  out.writeBigUInt64LE(crc64(out.subarray(0, out.length - 8)), out.length - 8);
  return out;
}
