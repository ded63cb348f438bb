// Hand-made RDB bytes for the reader's unit tests, written from the layout in redis/redis rdb.c.
import { crc64 } from '../../../../src/engine/rdb/crc64.js';

export function len(n: number): Buffer {
  if (n < 64) return Buffer.from([n]);
  if (n < 16384) return Buffer.from([0x40 | (n >> 8), n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = 0x80;
  b.writeUInt32BE(n, 1);
  return b;
}

/** A length in the 64-bit form (0x81), whatever its size. */
export function len64(n: bigint): Buffer {
  const b = Buffer.alloc(9);
  b[0] = 0x81;
  b.writeBigUInt64BE(n, 1);
  return b;
}

export function str(s: string | Buffer): Buffer {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s);
  return Buffer.concat([len(b.length), b]);
}

/** The body of an RDB after its header: opcodes and entries, then EOF and the CRC. */
export function rdbFile(version: number, ...parts: (Buffer | number[])[]): Buffer {
  const body = Buffer.concat([
    Buffer.from(`REDIS${String(version).padStart(4, '0')}`),
    ...parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))),
    Buffer.from([0xff]),
  ]);
  const crc = Buffer.alloc(8);
  crc.writeBigUInt64LE(crc64(body));
  return Buffer.concat([body, crc]);
}

export function expireMs(ms: number): Buffer {
  const b = Buffer.alloc(9);
  b[0] = 0xfc;
  b.writeBigInt64LE(BigInt(ms), 1);
  return b;
}

/** module.c moduleTypeEncodeId: 9 name characters of 6 bits, then a 10-bit encoding version. */
export function moduleId(name: string, encver: number): bigint {
  const cset = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let id = 0n;
  for (const ch of name) id = (id << 6n) | BigInt(cset.indexOf(ch));
  return (id << 10n) | BigInt(encver);
}
