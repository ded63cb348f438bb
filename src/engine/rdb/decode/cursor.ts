// Reads the RDB primitives of one value (rdb.c rdbLoadLen, rdbGenericLoadStringObject,
// rdbLoadDoubleValue, rdbLoadBinaryDoubleValue, rdbLoadMillisecondTime) from a payload held whole.
// The RDB reader has already walked the same bytes, so running past the end means a corrupt value.
import { RdbError } from '../errors.js';
import { lzfDecompress } from '../lzf.js';

export class ValueCursor {
  p: number;

  constructor(
    readonly buf: Buffer,
    start: number,
    private readonly end: number,
  ) {
    this.p = start;
  }

  get atEnd(): boolean {
    return this.p >= this.end;
  }

  private need(n: number): void {
    if (this.p + n > this.end) throw corruptValue('the value ends early');
  }

  byte(): number {
    this.need(1);
    return this.buf[this.p++]!;
  }

  fixed(n: number): Buffer {
    this.need(n);
    const out = this.buf.subarray(this.p, this.p + n);
    this.p += n;
    return out;
  }

  /** A length as a Number (exact up to 2^53, which every count and size is). */
  len(): number {
    return Number(this.lenBig());
  }

  /** A length kept exact to 64 bits (stream ids and counters use all of them). */
  lenBig(): bigint {
    const first = this.byte();
    const kind = first >> 6;
    if (kind === 0) return BigInt(first & 0x3f);
    if (kind === 1) return BigInt(((first & 0x3f) << 8) | this.byte());
    if (first === 0x80) return BigInt(this.fixed(4).readUInt32BE(0));
    if (first === 0x81) return this.fixed(8).readBigUInt64BE(0);
    throw corruptValue(`byte 0x${first.toString(16)} where a length was expected`);
  }

  /** A string: plain, an integer (as its decimal text) or LZF-compressed. */
  string(): Buffer {
    const first = this.buf[this.p];
    if (first === undefined || first >> 6 !== 3) return this.fixed(this.len());
    this.p++;
    const enc = first & 0x3f;
    if (enc === 0) return Buffer.from(String(this.fixed(1).readInt8(0)));
    if (enc === 1) return Buffer.from(String(this.fixed(2).readInt16LE(0)));
    if (enc === 2) return Buffer.from(String(this.fixed(4).readInt32LE(0)));
    if (enc !== 3) throw corruptValue(`unknown string encoding ${enc}`);
    const compressed = this.len();
    const plain = this.len();
    try {
      return lzfDecompress(this.fixed(compressed), plain);
    } catch (err) {
      throw corruptValue(`${(err as Error).message} in a compressed string`);
    }
  }

  /** RDB_TYPE_ZSET's score: a 1-byte length and its text; 253 nan, 254 +inf, 255 -inf. */
  oldDouble(): Buffer {
    const n = this.byte();
    if (n === 253) return Buffer.from('nan');
    if (n === 254) return Buffer.from('inf');
    if (n === 255) return Buffer.from('-inf');
    return Buffer.from(this.fixed(n));
  }

  /** An IEEE 754 double, little-endian. */
  binaryDouble(): number {
    return this.fixed(8).readDoubleLE(0);
  }

  /** A time in Unix ms, 8 bytes little-endian. */
  millis(): number {
    return Number(this.fixed(8).readBigInt64LE(0));
  }
}

/** A score as text that parses back to the same double (ZADD's strtod). */
export function doubleText(x: number): Buffer {
  if (x === Number.POSITIVE_INFINITY) return Buffer.from('inf');
  if (x === Number.NEGATIVE_INFINITY) return Buffer.from('-inf');
  if (Object.is(x, -0)) return Buffer.from('-0');
  // JavaScript prints the shortest text that reads back as the same double.
  return Buffer.from(String(x));
}

export function corruptValue(what: string): RdbError {
  return new RdbError('corrupt', `corrupt value: ${what}`, -1);
}
