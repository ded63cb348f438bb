// RESP command encoder. Small arguments are copied into large scratch blocks (few, big socket
// writes); large Buffers (DUMP payloads, big values) are passed through without copying.
import type { RespArg } from './reply.js';

const BLOCK = 256 * 1024;
/** Buffers longer than this are written as their own chunk instead of being copied. */
const COPY_LIMIT = 16 * 1024;
const CRLF_LEN = 2;
/** Encoded `$<len>\r\n<text>\r\n` of short strings (command names, flags), computed once each. */
const tokenCache = new Map<string, Buffer>();
const TOKEN_MAX = 24;
const TOKEN_CACHE_MAX = 512;

function encodedToken(text: string): Buffer {
  let cached = tokenCache.get(text);
  if (cached === undefined) {
    const n = Buffer.byteLength(text);
    cached = Buffer.from(`$${n}\r\n${text}\r\n`);
    if (tokenCache.size < TOKEN_CACHE_MAX) tokenCache.set(text, cached);
  }
  return cached;
}

/**
 * A command shape with fixed words around its variable arguments, pre-encoded once:
 * e.g. `RESTORE <key> <ttl> <payload> REPLACE`. The hot path encodes commands from templates
 * without building an argument array per command.
 */
export interface CommandTemplate {
  readonly head: Buffer;
  readonly tail: Buffer;
  readonly argc: number;
}

export function commandTemplate(
  words: readonly string[],
  argc: number,
  tailWords: readonly string[] = [],
): CommandTemplate {
  const total = words.length + argc + tailWords.length;
  return {
    head: Buffer.concat([Buffer.from(`*${total}\r\n`), ...words.map(encodedToken)]),
    tail: Buffer.concat(tailWords.map(encodedToken)),
    argc,
  };
}

export class CommandEncoder {
  private chunks: Buffer[] = [];
  private block: Buffer = Buffer.allocUnsafe(BLOCK);
  private pos = 0;
  private blockStart = 0;
  /** Bytes encoded since the last take(). */
  size = 0;

  push(args: readonly RespArg[]): void {
    this.header(42, args.length);
    for (const arg of args) {
      if (typeof arg === 'string') {
        if (arg.length <= TOKEN_MAX) this.raw(encodedToken(arg));
        else this.bulkString(arg);
      } else if (typeof arg === 'number') {
        this.bulkNumber(arg);
      } else this.bulkBuffer(arg);
    }
  }

  /** A command from a template; pass exactly `template.argc` arguments. */
  pushTemplate(
    template: CommandTemplate,
    a: Buffer | number,
    b?: Buffer | number,
    c?: Buffer | number,
  ): void {
    // Fast path (the copy's DUMP, PTTL and RESTORE): the command's size is known up front, so it
    // is written with one bounds check and the position kept in a local.
    const need =
      template.head.length +
      template.tail.length +
      inlineBytes(a) +
      (b === undefined ? 0 : inlineBytes(b)) +
      (c === undefined ? 0 : inlineBytes(c));
    if (need >= 0) {
      if (this.pos + need > this.block.length) {
        this.cut();
        this.newBlock(Math.max(BLOCK, need));
      }
      const block = this.block;
      let pos = this.pos;
      block.set(template.head, pos);
      pos = putInline(block, pos + template.head.length, a);
      if (b !== undefined) pos = putInline(block, pos, b);
      if (c !== undefined) pos = putInline(block, pos, c);
      if (template.tail.length > 0) {
        block.set(template.tail, pos);
        pos += template.tail.length;
      }
      this.size += pos - this.pos;
      this.pos = pos;
      return;
    }
    this.raw(template.head);
    this.arg(a);
    if (b !== undefined) this.arg(b);
    if (c !== undefined) this.arg(c);
    if (template.tail.length > 0) this.raw(template.tail);
  }

  private arg(v: Buffer | number): void {
    if (typeof v === 'number') this.bulkNumber(v);
    else this.bulkBuffer(v);
  }

  /** The encoded bytes as a list of chunks; the encoder starts over afterwards. */
  take(): Buffer[] {
    this.cut();
    const out = this.chunks;
    this.chunks = [];
    // The returned slices point into the current block: continue in a fresh region of it.
    this.blockStart = this.pos;
    if (BLOCK - this.pos < 1024) this.newBlock();
    this.size = 0;
    return out;
  }

  private bulkBuffer(arg: Buffer): void {
    const n = arg.length;
    this.header(36, n);
    // TypedArray.set is a memcpy: measured faster here than a byte loop even for 10-byte keys.
    if (n <= COPY_LIMIT) {
      this.ensure(n + CRLF_LEN);
      this.block.set(arg, this.pos);
      this.pos += n;
      this.size += n;
      this.crlf();
    } else {
      this.cut();
      this.chunks.push(arg);
      this.size += n;
      this.crlf();
    }
  }

  private raw(bytes: Buffer): void {
    this.ensure(bytes.length);
    this.block.set(bytes, this.pos);
    this.pos += bytes.length;
    this.size += bytes.length;
  }

  private bulkNumber(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) {
      this.bulkString(String(n));
      return;
    }
    this.header(36, digitCount(n));
    this.ensure(24);
    const before = this.pos;
    this.pos = writeDigits(this.block, this.pos, n);
    this.size += this.pos - before;
    this.crlf();
  }

  private bulkString(arg: string): void {
    const n = Buffer.byteLength(arg);
    this.header(36, n);
    if (n > COPY_LIMIT) {
      this.cut();
      this.chunks.push(Buffer.from(arg));
      this.size += n;
      this.crlf();
      return;
    }
    this.ensure(n + CRLF_LEN);
    this.pos += this.block.write(arg, this.pos);
    this.size += n;
    this.crlf();
  }

  /** `*<n>\r\n` or `$<n>\r\n`. */
  private header(prefix: number, n: number): void {
    this.ensure(24);
    const block = this.block;
    const before = this.pos;
    block[this.pos++] = prefix;
    this.pos = writeDigits(block, this.pos, n);
    block[this.pos++] = 13;
    block[this.pos++] = 10;
    this.size += this.pos - before;
  }

  private crlf(): void {
    this.ensure(CRLF_LEN);
    this.block[this.pos++] = 13;
    this.block[this.pos++] = 10;
    this.size += 2;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.block.length) return;
    this.cut();
    this.newBlock(Math.max(BLOCK, n));
  }

  /** Moves the bytes written into the current block since the last cut to the chunk list. */
  private cut(): void {
    if (this.pos > this.blockStart) {
      this.chunks.push(this.block.subarray(this.blockStart, this.pos));
      this.blockStart = this.pos;
    }
  }

  private newBlock(size = BLOCK): void {
    this.block = Buffer.allocUnsafe(size);
    this.pos = 0;
    this.blockStart = 0;
  }
}

/**
 * Encoded size of an argument the fast path copies into the block (a Buffer up to COPY_LIMIT, a
 * non-negative safe integer), or -Infinity for one it does not.
 */
function inlineBytes(v: Buffer | number): number {
  let n: number;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) return Number.NEGATIVE_INFINITY;
    n = digitCount(v);
  } else {
    n = v.length;
    if (n > COPY_LIMIT) return Number.NEGATIVE_INFINITY;
  }
  return n + digitCount(n) + 5; // $<n>\r\n<bytes>\r\n
}

/** Writes `$<n>\r\n<bytes>\r\n` at `pos` (room checked by the caller); returns the position after it. */
function putInline(block: Buffer, at: number, v: Buffer | number): number {
  let pos = at;
  block[pos++] = 36;
  if (typeof v === 'number') {
    pos = writeDigits(block, pos, digitCount(v));
    block[pos++] = 13;
    block[pos++] = 10;
    pos = writeDigits(block, pos, v);
  } else {
    pos = writeDigits(block, pos, v.length);
    block[pos++] = 13;
    block[pos++] = 10;
    block.set(v, pos);
    pos += v.length;
  }
  block[pos++] = 13;
  block[pos++] = 10;
  return pos;
}

function digitCount(n: number): number {
  if (n < 10) return 1;
  if (n < 100) return 2;
  if (n < 1000) return 3;
  if (n < 10000) return 4;
  if (n < 100000) return 5;
  if (n < 1000000) return 6;
  if (n < 10000000) return 7;
  if (n < 100000000) return 8;
  if (n < 1000000000) return 9;
  let digits = 10;
  for (let v = Math.floor(n / 1e10); v >= 1; v = Math.floor(v / 10)) digits++;
  return digits;
}

/** Writes a non-negative integer in decimal at `pos`; returns the position after it. */
function writeDigits(block: Buffer, pos: number, n: number): number {
  if (n < 10) {
    block[pos] = 48 + n;
    return pos + 1;
  }
  const digits = digitCount(n);
  let i = pos + digits - 1;
  let v = n;
  // Integer arithmetic while the value fits in 31 bits (TTLs, lengths): much cheaper than floor.
  for (; v >= 2147483648; i--) {
    const q = Math.floor(v / 10);
    block[i] = 48 + (v - q * 10);
    v = q;
  }
  for (; i >= pos; i--) {
    const q = (v / 10) | 0;
    block[i] = 48 + (v - q * 10);
    v = q;
  }
  return pos + digits;
}
