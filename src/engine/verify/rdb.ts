// What verification reads out of a DUMP payload without asking the server again:
//   <RDB object type: 1 byte><serialized value><RDB version: uint16 LE><CRC-64: 8 bytes>
// - the Redis type, from the object type byte (saves a TYPE command per key);
// - the RDB version, from the trailer (payloads are only comparable byte for byte when both
//   servers write the same version);
// - the members of sets and hashes in hash-table encoding. Those serialize in dict order, which
//   depends on each server's random hash seed, so the same set dumps differently on two servers;
//   decoding them here settles the mismatch without reading the key again.
import { lzfDecompress } from '../rdb/lzf.js';

const TRAILER = 10;

/** RDB object type byte -> the name TYPE reports. Unknown (newer) bytes are absent: ask TYPE. */
const TYPE_BY_RDB_BYTE: readonly (string | undefined)[] = [
  'string', // 0 RDB_TYPE_STRING
  'list', // 1 RDB_TYPE_LIST
  'set', // 2 RDB_TYPE_SET
  'zset', // 3 RDB_TYPE_ZSET
  'hash', // 4 RDB_TYPE_HASH
  'zset', // 5 RDB_TYPE_ZSET_2
  undefined, // 6 module (pre-GA): the module's own type name comes from TYPE
  undefined, // 7 RDB_TYPE_MODULE_2
  undefined, // 8 unused
  'hash', // 9 RDB_TYPE_HASH_ZIPMAP
  'list', // 10 RDB_TYPE_LIST_ZIPLIST
  'set', // 11 RDB_TYPE_SET_INTSET
  'zset', // 12 RDB_TYPE_ZSET_ZIPLIST
  'hash', // 13 RDB_TYPE_HASH_ZIPLIST
  'list', // 14 RDB_TYPE_LIST_QUICKLIST
  'stream', // 15 RDB_TYPE_STREAM_LISTPACKS
  'hash', // 16 RDB_TYPE_HASH_LISTPACK
  'zset', // 17 RDB_TYPE_ZSET_LISTPACK
  'list', // 18 RDB_TYPE_LIST_QUICKLIST_2
  'stream', // 19 RDB_TYPE_STREAM_LISTPACKS_2
  'set', // 20 RDB_TYPE_SET_LISTPACK
  'stream', // 21 RDB_TYPE_STREAM_LISTPACKS_3
];

const RDB_TYPE_SET = 2;
const RDB_TYPE_HASH = 4;

/** The Redis type of a payload, or undefined when its type byte is unknown (module, newer format). */
export function payloadType(payload: Buffer): string | undefined {
  if (payload.length <= TRAILER) return undefined;
  return TYPE_BY_RDB_BYTE[payload[0]!];
}

/** The RDB version a payload was written with, or null when it is too short to be one. */
export function payloadVersion(payload: Buffer): number | null {
  if (payload.length <= TRAILER) return null;
  return payload.readUInt16LE(payload.length - TRAILER);
}

/** Members of a hash-table set, or field, value, field, value... of a hash-table hash. */
export type DecodedPayload = { type: 'set'; members: Buffer[] } | { type: 'hash'; entries: Buffer[] };

/**
 * Decodes sets and hashes in hash-table encoding; null for every other encoding, and for anything
 * that does not parse cleanly up to the trailer (then the caller reads the key by type instead).
 */
export function decodeUnorderedPayload(payload: Buffer): DecodedPayload | null {
  if (payload.length <= TRAILER) return null;
  const kind = payload[0];
  if (kind !== RDB_TYPE_SET && kind !== RDB_TYPE_HASH) return null;
  const reader = new RdbReader(payload, 1, payload.length - TRAILER);
  try {
    const n = reader.length();
    const total = kind === RDB_TYPE_SET ? n : n * 2;
    // A corrupt length must not make us allocate: each string takes at least one byte.
    if (total > reader.remaining) return null;
    const items: Buffer[] = new Array(total);
    for (let i = 0; i < total; i++) items[i] = reader.string();
    if (!reader.atEnd) return null;
    return kind === RDB_TYPE_SET ? { type: 'set', members: items } : { type: 'hash', entries: items };
  } catch {
    return null;
  }
}

class RdbReader {
  constructor(
    private readonly buf: Buffer,
    private pos: number,
    private readonly end: number,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  get atEnd(): boolean {
    return this.pos === this.end;
  }

  private byte(): number {
    if (this.pos >= this.end) throw new RangeError('truncated');
    return this.buf[this.pos++]!;
  }

  /** rdbLoadLen: returns the length, or -(encoding + 1) for the special string encodings. */
  private lengthOrEncoding(): number {
    const first = this.byte();
    const kind = first >> 6;
    if (kind === 0) return first & 0x3f;
    if (kind === 1) return ((first & 0x3f) << 8) | this.byte();
    if (kind === 3) return -((first & 0x3f) + 1);
    if (first === 0x80) {
      this.need(4);
      const n = this.buf.readUInt32BE(this.pos);
      this.pos += 4;
      return n;
    }
    if (first === 0x81) {
      this.need(8);
      const n = this.buf.readBigUInt64BE(this.pos);
      this.pos += 8;
      if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('length too large');
      return Number(n);
    }
    throw new RangeError(`bad length byte ${first}`);
  }

  length(): number {
    const n = this.lengthOrEncoding();
    if (n < 0) throw new RangeError('encoded value where a length was expected');
    return n;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new RangeError('truncated');
  }

  /** rdbGenericLoadStringObject: raw, integer-encoded or LZF-compressed. */
  string(): Buffer {
    const n = this.lengthOrEncoding();
    if (n >= 0) {
      this.need(n);
      const out = this.buf.subarray(this.pos, this.pos + n);
      this.pos += n;
      return out;
    }
    const encoding = -n - 1;
    if (encoding === 0) {
      this.need(1);
      const v = this.buf.readInt8(this.pos);
      this.pos += 1;
      return Buffer.from(String(v));
    }
    if (encoding === 1) {
      this.need(2);
      const v = this.buf.readInt16LE(this.pos);
      this.pos += 2;
      return Buffer.from(String(v));
    }
    if (encoding === 2) {
      this.need(4);
      const v = this.buf.readInt32LE(this.pos);
      this.pos += 4;
      return Buffer.from(String(v));
    }
    if (encoding === 3) {
      const compressedLength = this.length();
      const length = this.length();
      this.need(compressedLength);
      const out = lzfDecompress(this.buf.subarray(this.pos, this.pos + compressedLength), length);
      this.pos += compressedLength;
      return out;
    }
    throw new RangeError(`unknown string encoding ${encoding}`);
  }
}
