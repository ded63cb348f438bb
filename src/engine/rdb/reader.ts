// A streaming (push) RDB reader: bytes go in as they arrive (a file, or the RDB part of a
// replication stream), events come out: header, aux fields, databases, functions, and one entry
// per key with its db, expiry and its value's raw bytes as a ready RESTORE payload. Values are not
// decoded: the reader walks each value's layout (format.ts) only to find where it ends.
//
// Memory: the bytes of the key and value being read, plus what the caller has not consumed.
// A key or value over `maxValueBytes` stops the read (RdbError 'too-big') as soon as its length
// is known, before its bytes are buffered. Back-pressure: write() resolves once every event of
// its chunk has been handled, awaiting the handler's promise when it returns one; a producer that
// awaits write() before reading on (for await over a socket or file does) is slowed to the
// consumer's pace.
//
// Kept whole (over 500 lines): one byte-level state machine whose states share the buffer, the
// position, the running checksums and the frame stack; the layouts it walks are data (format.ts).
//
// The reader keeps views into the chunks it is given (keys, payload pieces): the producer must
// not reuse a chunk's memory after writing it (fs and net streams hand out fresh buffers).
import { Crc64 } from './crc64.js';
import { RdbError } from './errors.js';
import {
  COUNT_OP,
  LAYOUTS,
  MAX_RDB_VERSION,
  moduleTypeName,
  OPCODE,
  type Op,
  TYPE_MODULE_2,
  TYPE_MODULE_PRE_GA,
} from './format.js';
import { lzfDecompress } from './lzf.js';

export interface RdbEntry {
  db: number;
  key: Buffer;
  /** Absolute expiry time (Unix ms) from EXPIRETIME_MS / EXPIRETIME, or null. */
  expireAtMs: number | null;
  /** The value's type byte (format.ts typeName). */
  type: number;
  /**
   * Type byte + value bytes + RDB version (2 bytes LE) + CRC-64 of those (8 bytes LE): exactly
   * what DUMP returns for the key on a server of the file's RDB version, ready for RESTORE.
   */
  payload: Buffer;
  /** LRU idle seconds (IDLE opcode), when the source used an LRU policy. */
  idleSeconds?: number;
  /** LFU counter (FREQ opcode), when the source used an LFU policy. */
  freq?: number;
  /** Stream offset of the entry's first byte (its first opcode). */
  offset: number;
}

export type RdbEvent =
  | { kind: 'header'; version: number }
  | { kind: 'aux'; name: string; value: Buffer }
  | { kind: 'db'; db: number }
  /** RESIZEDB: how many keys (and keys with a TTL) the current database holds. */
  | { kind: 'resize'; db: number; keys: number; expires: number }
  | { kind: 'entry'; entry: RdbEntry }
  /** FUNCTION2: one function library's code, as FUNCTION LOAD takes it. */
  | { kind: 'function'; code: Buffer }
  /** The checksum after EOF matched ('ok'), or the writer had `rdbchecksum no` ('disabled'). */
  | { kind: 'end'; checksum: 'ok' | 'disabled' };

export type RdbHandler = (event: RdbEvent) => void | Promise<void>;

export interface RdbReaderOptions {
  /** Biggest key or value (its serialized bytes) accepted; default DEFAULT_MAX_VALUE_BYTES. */
  maxValueBytes?: number;
}

/**
 * 64 MiB, the copy's big-key threshold: one value is held whole (as the payload RESTORE takes),
 * so the cap bounds the reader's memory at about twice that; bigger keys need the by-type path.
 */
export const DEFAULT_MAX_VALUE_BYTES = 64 * 1024 * 1024;

const EMPTY = Buffer.alloc(0);

/** Thrown by the cursor reads when the buffered bytes end first; `Cursor.needEnd` says where. */
const SHORT = Symbol('short');

enum State {
  Header,
  Opcode,
  Value,
  Checksum,
  Done,
}

interface Frame {
  ops: readonly Op[];
  pc: number;
  /** Repetitions left, the current one included. */
  left: number;
}

export class RdbReader {
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Stream offset of buf[0]. */
  private base = 0;
  /** Chunks received while waiting for `need` bytes (not merged yet). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Contiguous bytes from pos needed before parsing can go on. */
  private need = 0;
  private state = State.Header;
  private readonly crc = new Crc64();
  /** For each payload's trailer (one instance, reset per payload). */
  private readonly payloadCrc = new Crc64();
  private crcPos = 0;
  private readonly maxValueBytes: number;
  private trailer: Buffer[] = [];
  private readonly cursor = new Cursor();
  private writing = false;

  private version = 0;
  private db = 0;
  // Per-key attributes set by opcodes before the key.
  private expireAtMs: number | null = null;
  private idle: number | undefined;
  private freq: number | undefined;
  private entryOffset = -1;
  // The value being walked.
  private key: Buffer = EMPTY;
  private type = 0;
  private valueStart = 0;
  private pieces: Buffer[] = [];
  private pieceBytes = 0;
  private stack: Frame[] = [];
  private lastLen = 0;
  private strLeft = 0;
  private keys = 0;
  private emptyKeys = 0;
  /** The value being walked has an element count of 0. */
  private empty = false;

  constructor(
    private readonly handler: RdbHandler,
    options: RdbReaderOptions = {},
  ) {
    this.maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  }

  /** Bytes of the stream fully read so far. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** The RDB version from the header (0 before it is read). */
  get rdbVersion(): number {
    return this.version;
  }

  /** Empty collections skipped (as Redis's own load skips them; RESTORE would refuse them). */
  get emptyKeysSkipped(): number {
    return this.emptyKeys;
  }

  /** Keys read so far. */
  get keysRead(): number {
    return this.keys;
  }

  get done(): boolean {
    return this.state === State.Done;
  }

  /**
   * Bytes received after the checksum: in a replication stream, the diskless transfer's EOF mark
   * and the commands that follow. Empty until done.
   */
  get trailing(): Buffer {
    if (this.state !== State.Done) return EMPTY;
    return Buffer.concat([this.buf.subarray(this.pos), ...this.pending, ...this.trailer]);
  }

  /**
   * Feeds the next chunk; resolves once its events are handled. Rejects with RdbError. One write
   * at a time: the next chunk waits for this promise (that wait is the back-pressure).
   */
  async write(chunk: Buffer): Promise<void> {
    if (this.writing) throw new Error('RdbReader.write() called before the previous write resolved');
    if (chunk.length === 0) return;
    this.writing = true;
    try {
      await this.parse(chunk);
    } finally {
      this.writing = false;
    }
  }

  private async parse(chunk: Buffer): Promise<void> {
    if (this.state === State.Done) {
      this.trailer.push(chunk);
      return;
    }
    const leftover = this.buf.length - this.pos;
    if (leftover + this.pendingBytes + chunk.length < this.need) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      return;
    }
    this.crc.update(this.buf, this.crcPos, this.pos);
    if (this.state === State.Value && this.pos > this.valueStart) {
      this.addPiece(this.buf.subarray(this.valueStart, this.pos));
    }
    this.base += this.pos;
    this.buf =
      leftover === 0 && this.pendingBytes === 0
        ? chunk
        : Buffer.concat([this.buf.subarray(this.pos), ...this.pending, chunk]);
    this.pos = 0;
    this.crcPos = 0;
    this.valueStart = 0;
    this.pending = [];
    this.pendingBytes = 0;
    this.need = 0;
    for (;;) {
      const event = this.step();
      if (event === null) break;
      if (event === undefined) continue;
      const wait = this.handler(event);
      if (wait) await wait;
    }
  }

  /** The producer has no more bytes: throws RdbError 'truncated' unless the RDB was complete. */
  end(): void {
    if (this.state === State.Done) return;
    if (this.state === State.Header) this.notRdb();
    // Everything before an incomplete entry was read (and handed out) whole.
    const at = this.state === State.Value || this.entryOffset >= 0 ? this.entryOffset : this.offset;
    const where =
      this.state === State.Value
        ? `in the value of a key in db ${this.db} (its entry starts at byte ${this.entryOffset})`
        : this.state === State.Checksum
          ? 'in the checksum after the EOF opcode'
          : 'between entries';
    throw new RdbError(
      'truncated',
      `the RDB ends early: ${this.offset + (this.buf.length - this.pos) + this.pendingBytes} bytes, cut off ${where}, ` +
        `after ${this.keys} keys`,
      at,
    );
  }

  /** One step of parsing: an event, undefined (progress, no event) or null (needs more bytes). */
  private step(): RdbEvent | undefined | null {
    switch (this.state) {
      case State.Header:
        return this.header();
      case State.Opcode:
        return this.opcode();
      case State.Value:
        return this.walkValue();
      case State.Checksum:
        return this.checksum();
      default:
        return null;
    }
  }

  private header(): RdbEvent | null {
    const buf = this.buf;
    if (buf.length - this.pos < 9) {
      // Say "not an RDB" as soon as the bytes there are cannot be the signature.
      const have = buf.subarray(this.pos, this.pos + 5);
      if (!Buffer.from('REDIS').subarray(0, have.length).equals(have)) this.notRdb();
      this.need = 9;
      return null;
    }
    const head = buf.subarray(this.pos, this.pos + 9);
    const digits = head.subarray(5).toString('latin1');
    if (!head.subarray(0, 5).equals(Buffer.from('REDIS')) || !/^\d{4}$/.test(digits)) this.notRdb();
    const version = Number(digits);
    if (version < 1 || version > MAX_RDB_VERSION) {
      throw new RdbError(
        'unsupported',
        `RDB version ${version} is not supported: this reader knows RDB 1 to ${MAX_RDB_VERSION} ` +
          '(Redis up to 8.4, Valkey up to 8.1); load the file into a server of its version and copy ' +
          'from there (migration-buddy copy)',
        this.offset,
      );
    }
    this.version = version;
    this.pos += 9;
    this.state = State.Opcode;
    return { kind: 'header', version };
  }

  private notRdb(): never {
    throw new RdbError('not-rdb', 'not an RDB file: it does not start with "REDIS" and a 4-digit version', 0);
  }

  private opcode(): RdbEvent | undefined | null {
    const c = this.cursor.reset(this.buf, this.pos, this.base);
    try {
      const start = this.pos;
      if (this.entryOffset < 0) this.entryOffset = this.offset;
      const op = c.byte();
      switch (op) {
        case OPCODE.EXPIRETIME_MS: {
          const ms = c.fixed(8).readBigInt64LE(0);
          this.expireAtMs = Number(ms);
          this.pos = c.p;
          return undefined;
        }
        case OPCODE.EXPIRETIME:
          this.expireAtMs = c.fixed(4).readInt32LE(0) * 1000;
          this.pos = c.p;
          return undefined;
        case OPCODE.FREQ:
          this.freq = c.byte();
          this.pos = c.p;
          return undefined;
        case OPCODE.IDLE:
          this.idle = c.len();
          this.pos = c.p;
          return undefined;
        case OPCODE.SELECTDB:
          this.db = c.len();
          this.pos = c.p;
          this.entryOffset = -1;
          return { kind: 'db', db: this.db };
        case OPCODE.RESIZEDB: {
          const keys = c.len();
          const expires = c.len();
          this.pos = c.p;
          this.entryOffset = -1;
          return { kind: 'resize', db: this.db, keys, expires };
        }
        case OPCODE.SLOT_INFO:
          c.len();
          c.len();
          c.len();
          this.pos = c.p;
          this.entryOffset = -1;
          return undefined;
        case OPCODE.AUX: {
          const name = c.string(this.maxValueBytes).toString('latin1');
          const value = c.string(this.maxValueBytes);
          this.pos = c.p;
          this.entryOffset = -1;
          return { kind: 'aux', name, value };
        }
        case OPCODE.FUNCTION2: {
          const code = c.string(this.maxValueBytes);
          this.pos = c.p;
          this.entryOffset = -1;
          return { kind: 'function', code };
        }
        case OPCODE.FUNCTION_PRE_GA:
          throw new RdbError(
            'unsupported',
            `function libraries in the pre-release format of Redis 7.0 RC1/RC2 (opcode 246 at byte ${this.base + start}) ` +
              'are not supported: save the file again with a released Redis 7',
            this.base + start,
          );
        case OPCODE.MODULE_AUX: {
          const { name, encver } = moduleTypeName(c.lenBig());
          throw new RdbError(
            'module',
            `the RDB holds data of module '${name}' (module aux data, encoding version ${encver}, at byte ` +
              `${this.base + start}): module data can only be read by that module, so this file cannot be ` +
              `imported by this tool; load it into a server with module '${name}' and copy from there`,
            this.base + start,
          );
        }
        case OPCODE.EOF:
          this.pos = c.p;
          this.crc.update(this.buf, this.crcPos, this.pos);
          this.crcPos = this.pos;
          this.state = this.version >= 5 ? State.Checksum : State.Done;
          return this.version >= 5 ? undefined : { kind: 'end', checksum: 'disabled' };
        default:
          return this.startValue(op, c, start);
      }
    } catch (err) {
      if (err !== SHORT) throw err;
      this.need = c.needEnd - this.pos;
      return null;
    }
  }

  private startValue(type: number, c: Cursor, start: number): undefined {
    const layout = LAYOUTS[type];
    if (layout === undefined && type !== TYPE_MODULE_2 && type !== TYPE_MODULE_PRE_GA) {
      throw new RdbError(
        'corrupt',
        `unknown opcode or value type ${type} at byte ${this.base + start} (after ${this.keys} keys): ` +
          'the file is corrupt, or of a newer format',
        this.base + start,
      );
    }
    const key = c.string(this.maxValueBytes, 'key');
    if (layout === undefined) {
      const { name } = moduleTypeName(c.lenBig());
      throw new RdbError(
        'module',
        `key ${JSON.stringify(key.toString('latin1').slice(0, 100))} in db ${this.db} (at byte ${this.base + start}) ` +
          `holds a value of module '${name}': its extent and meaning need that module, so this file cannot be ` +
          `imported by this tool; load it into a server with module '${name}' and copy from there`,
        this.base + start,
      );
    }
    this.key = key;
    this.type = type;
    this.pos = c.p;
    this.valueStart = this.pos;
    this.pieces = [];
    this.pieceBytes = 0;
    this.stack = [{ ops: layout, pc: 0, left: 1 }];
    this.empty = false;
    this.strLeft = 0;
    this.state = State.Value;
    return undefined;
  }

  /** Walks the value's layout as far as the buffered bytes go; the entry when it ends. */
  private walkValue(): RdbEvent | undefined | null {
    const buf = this.buf;
    const stack = this.stack;
    for (;;) {
      if (this.strLeft > 0) {
        const take = Math.min(this.strLeft, buf.length - this.pos);
        this.pos += take;
        this.strLeft -= take;
        if (this.strLeft > 0) {
          this.need = 1;
          return null;
        }
      }
      const f = stack[stack.length - 1]!;
      if (f.pc === f.ops.length) {
        if (--f.left > 0) {
          f.pc = 0;
          continue;
        }
        stack.pop();
        if (stack.length === 0) return this.finishValue();
        continue;
      }
      const op = f.ops[f.pc]!;
      const avail = buf.length - this.pos;
      if (typeof op === 'number') {
        if (avail < op) {
          this.need = op;
          return null;
        }
        this.pos += op;
        f.pc++;
      } else if (op === 'len') {
        const n = lengthAt(buf, this.pos);
        if (n < 0) {
          this.need = -n;
          return null;
        }
        this.lastLen = readLength(buf, this.pos, this.offset);
        if (this.lastLen === 0 && stack.length === 1 && COUNT_OP[this.type] === f.pc) this.empty = true;
        this.pos += n;
        f.pc++;
      } else if (op === 'str') {
        const size = stringHeaderAt(buf, this.pos, this.offset);
        if (size < 0) {
          this.need = -size;
          return null;
        }
        if (this.valueBytes() + size + headerBody > this.maxValueBytes) this.tooBig(size + headerBody);
        this.pos += size;
        this.strLeft = headerBody;
        f.pc++;
      } else if (op === 'dbl') {
        if (avail < 1) {
          this.need = 1;
          return null;
        }
        const b = buf[this.pos]!;
        const n = b >= 253 ? 1 : 1 + b;
        if (avail < n) {
          this.need = n;
          return null;
        }
        this.pos += n;
        f.pc++;
      } else {
        f.pc++;
        if (this.lastLen > 0) stack.push({ ops: op.repeat, pc: 0, left: this.lastLen });
      }
    }
  }

  private valueBytes(): number {
    return this.pieceBytes + (this.pos - this.valueStart);
  }

  private addPiece(piece: Buffer): void {
    this.pieces.push(piece);
    this.pieceBytes += piece.length;
  }

  private tooBig(adding: number): never {
    throw new RdbError(
      'too-big',
      `key ${JSON.stringify(this.key.toString('latin1').slice(0, 100))} in db ${this.db} (entry at byte ` +
        `${this.entryOffset}) has a value over the ${this.maxValueBytes}-byte cap (at least ` +
        `${this.valueBytes() + adding} bytes): raise the cap if this machine has the memory for it`,
      this.entryOffset,
    );
  }

  private finishValue(): RdbEvent | undefined {
    if (this.empty) {
      this.emptyKeys++;
      this.resetEntry();
      return undefined;
    }
    const tail = this.buf.subarray(this.valueStart, this.pos);
    const valueLength = this.pieceBytes + tail.length;
    const payload = Buffer.allocUnsafe(1 + valueLength + 10);
    payload[0] = this.type;
    let at = 1;
    for (const piece of this.pieces) {
      piece.copy(payload, at);
      at += piece.length;
    }
    tail.copy(payload, at);
    at += tail.length;
    payload.writeUInt16LE(this.version, at);
    const crc = this.payloadCrc;
    crc.hi = 0;
    crc.lo = 0;
    crc.update(payload, 0, at + 2).writeLE(payload, at + 2);
    const entry: RdbEntry = {
      db: this.db,
      key: this.key,
      expireAtMs: this.expireAtMs,
      type: this.type,
      payload,
      offset: this.entryOffset,
    };
    if (this.idle !== undefined) entry.idleSeconds = this.idle;
    if (this.freq !== undefined) entry.freq = this.freq;
    this.keys++;
    this.resetEntry();
    return { kind: 'entry', entry };
  }

  private resetEntry(): void {
    this.pieces = [];
    this.pieceBytes = 0;
    this.key = EMPTY;
    this.expireAtMs = null;
    this.idle = undefined;
    this.freq = undefined;
    this.entryOffset = -1;
    this.state = State.Opcode;
  }

  private checksum(): RdbEvent | null {
    if (this.buf.length - this.pos < 8) {
      this.need = 8;
      return null;
    }
    const at = this.offset;
    const stored = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    this.crcPos = this.pos;
    this.state = State.Done;
    if (stored === 0n) return { kind: 'end', checksum: 'disabled' };
    if (!this.crc.equalsLE(this.buf, this.pos - 8)) {
      throw new RdbError(
        'checksum',
        `the RDB's checksum does not match its content (stored ${stored.toString(16)}, computed ` +
          `${this.crc.value.toString(16)}, at byte ${at}): the file is corrupt`,
        at,
      );
    }
    return { kind: 'end', checksum: 'ok' };
  }
}

/**
 * Size of the length at buf[p] (1, 2, 5 or 9 bytes), or -(bytes needed) when not all there.
 * Special encodings (0xC0..) take one byte here; readLength refuses them.
 */
function lengthAt(buf: Buffer, p: number): number {
  const avail = buf.length - p;
  if (avail < 1) return -1;
  const first = buf[p]!;
  const size = first < 0x80 ? (first < 0x40 ? 1 : 2) : first === 0x80 ? 5 : first === 0x81 ? 9 : 1;
  return avail >= size ? size : -size;
}

/** rdbLoadLen at buf[p] (all its bytes are there). */
function readLength(buf: Buffer, p: number, offset: number): number {
  const first = buf[p]!;
  const kind = first >> 6;
  if (kind === 0) return first & 0x3f;
  if (kind === 1) return ((first & 0x3f) << 8) | buf[p + 1]!;
  if (first === 0x80) return buf.readUInt32BE(p + 1);
  // 64-bit lengths may be -1 as unsigned (a stream group's unknown entries-read): only skipped
  // over, so an approximate Number is enough; a count that big ends as a truncated stream.
  if (first === 0x81) return buf.readUInt32BE(p + 1) * 2 ** 32 + buf.readUInt32BE(p + 5);
  throw corrupt(`byte 0x${first.toString(16)} where a length was expected`, offset);
}

// stringHeaderAt's results (module scope: no object per string on the hot path).
let headerBody = 0;
/** For LZF strings, the plain (decompressed) length. */
let headerPlain = 0;

/**
 * The size of a string's header at buf[p], or -(bytes needed for it) when not all there; sets
 * headerBody to the bytes of the body that follow (the compressed bytes for LZF).
 */
function stringHeaderAt(buf: Buffer, p: number, offset: number): number {
  const n = lengthAt(buf, p);
  if (n < 0) return n;
  const first = buf[p]!;
  if (first >> 6 !== 3) {
    headerBody = readLength(buf, p, offset);
    return n;
  }
  const enc = first & 0x3f;
  headerPlain = -1;
  if (enc <= 2) {
    headerBody = 1 << enc;
    return 1;
  }
  if (enc !== 3) throw corrupt(`unknown string encoding ${enc}`, offset);
  const clenSize = lengthAt(buf, p + 1);
  if (clenSize < 0) return -(1 - clenSize);
  const lenSize = lengthAt(buf, p + 1 + clenSize);
  if (lenSize < 0) return -(1 + clenSize - lenSize);
  headerBody = readLength(buf, p + 1, offset);
  headerPlain = readLength(buf, p + 1 + clenSize, offset);
  return 1 + clenSize + lenSize;
}

function corrupt(what: string, offset: number): RdbError {
  return new RdbError('corrupt', `corrupt RDB at byte ${offset}: ${what}`, offset);
}

/** Reads primitives from a contiguous buffer, throwing SHORT (with needEnd) past its end. */
class Cursor {
  needEnd = 0;
  private buf: Buffer = EMPTY;
  p = 0;
  private base = 0;

  reset(buf: Buffer, p: number, base: number): this {
    this.buf = buf;
    this.p = p;
    this.base = base;
    return this;
  }

  private ensure(n: number): void {
    if (this.p + n > this.buf.length) {
      this.needEnd = this.p + n;
      throw SHORT;
    }
  }

  byte(): number {
    this.ensure(1);
    return this.buf[this.p++]!;
  }

  fixed(n: number): Buffer {
    this.ensure(n);
    const out = this.buf.subarray(this.p, this.p + n);
    this.p += n;
    return out;
  }

  len(): number {
    const size = lengthAt(this.buf, this.p);
    if (size < 0) this.ensure(-size);
    const n = readLength(this.buf, this.p, this.base + this.p);
    this.p += size;
    return n;
  }

  /** A length kept exact to 64 bits (module ids use all of them). */
  lenBig(): bigint {
    const size = lengthAt(this.buf, this.p);
    if (size < 0) this.ensure(-size);
    const first = this.buf[this.p]!;
    const n =
      first === 0x81
        ? this.buf.readBigUInt64BE(this.p + 1)
        : BigInt(readLength(this.buf, this.p, this.base + this.p));
    this.p += size;
    return n;
  }

  /** rdbGenericLoadStringObject: the string's bytes, decoded (integers as text, LZF expanded). */
  string(max: number, what = 'string'): Buffer {
    const at = this.base + this.p;
    const size = stringHeaderAt(this.buf, this.p, at);
    if (size < 0) this.ensure(-size);
    const body = headerBody;
    const plain = headerPlain;
    const first = this.buf[this.p]!;
    if (body > max || plain > max) {
      throw new RdbError(
        'too-big',
        `a ${what} of ${Math.max(body, plain)} bytes (at byte ${at}) is over the ${max}-byte cap`,
        at,
      );
    }
    this.ensure(size + body);
    const start = this.p + size;
    this.p = start + body;
    if (first >> 6 !== 3) return this.buf.subarray(start, this.p);
    const enc = first & 0x3f;
    if (enc === 0) return Buffer.from(String(this.buf.readInt8(start)));
    if (enc === 1) return Buffer.from(String(this.buf.readInt16LE(start)));
    if (enc === 2) return Buffer.from(String(this.buf.readInt32LE(start)));
    try {
      return lzfDecompress(this.buf.subarray(start, this.p), plain);
    } catch (err) {
      throw corrupt(`${(err as Error).message} in a compressed ${what}`, at);
    }
  }
}
