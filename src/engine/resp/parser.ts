// Streaming RESP2 reply parser. Built for the copy hot path: bulk strings are zero-copy slices of
// the socket chunk, nested arrays are kept on a stack so a reply split across chunks is never
// parsed twice, and very large bulk strings are filled in place instead of re-concatenated.
// A bulk string the owner does not want (over a pipeline's byte cap), at the top level or inside an
// array (an element of LRANGE, a field of HSCAN), is drained as it arrives and never held in
// memory: in its place the reply holds a SkippedBulk with its length.
import { RespConnectionError, RespError, type RespReply, SkippedBulk } from './reply.js';

const CR = 13;
const EMPTY = Buffer.alloc(0);
/** Bulk strings at least this long that are incomplete get their own buffer, filled as data arrives. */
const BIG_BULK = 256 * 1024;

interface Frame {
  items: RespReply[];
  size: number;
}

interface PendingBulk {
  target: Buffer;
  filled: number;
  /** Bytes of the trailing CRLF still to skip. */
  crlfLeft: number;
}

export class ReplyParser {
  private buf: Buffer = EMPTY;
  private pos = 0;
  private readonly stack: Frame[] = [];
  private big: PendingBulk | null = null;
  /** Bytes still to drop of a skipped bulk string (its data and CRLF), and its length. */
  private skip: { left: number; length: number } | null = null;
  /** The bulk string at `pos` was already let through by keepBulk and waits for its data. */
  private kept = false;

  /**
   * @param keepBulk asked for each bulk string (nested ones too) before it is buffered; false drains it.
   */
  constructor(
    private readonly onReply: (reply: RespReply) => void,
    private readonly keepBulk: (length: number) => boolean = () => true,
  ) {}

  /** Bytes received but not yet turned into a reply (for memory accounting and tests). */
  get buffered(): number {
    return this.buf.length - this.pos + (this.big ? this.big.filled : 0);
  }

  feed(chunk: Buffer): void {
    let data = chunk;
    if (this.skip) {
      data = this.drain(data);
      if (this.skip) return;
    }
    if (this.big) {
      data = this.fillBig(data);
      if (this.big) return;
    }
    if (data.length === 0) return;
    if (this.pos < this.buf.length) {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), data]);
    } else {
      this.buf = data;
    }
    this.pos = 0;
    this.parse();
  }

  /** Drops the bytes of a skipped bulk string; returns what is left of the chunk. */
  private drain(chunk: Buffer): Buffer {
    const skip = this.skip!;
    const n = Math.min(skip.left, chunk.length);
    skip.left -= n;
    if (skip.left === 0) {
      this.skip = null;
      this.emit(new SkippedBulk(skip.length));
    }
    return n === 0 ? chunk : chunk.subarray(n);
  }

  /** Copies into the pending big bulk string; returns what is left of the chunk. */
  private fillBig(chunk: Buffer): Buffer {
    const big = this.big!;
    let offset = 0;
    const need = big.target.length - big.filled;
    if (need > 0) {
      const n = Math.min(need, chunk.length);
      chunk.copy(big.target, big.filled, 0, n);
      big.filled += n;
      offset = n;
    }
    while (big.crlfLeft > 0 && offset < chunk.length) {
      big.crlfLeft--;
      offset++;
    }
    if (big.filled === big.target.length && big.crlfLeft === 0) {
      this.big = null;
      this.emit(big.target);
    }
    return offset === 0 ? chunk : chunk.subarray(offset);
  }

  private parse(): void {
    const buf = this.buf;
    const len = buf.length;
    while (this.pos < len) {
      const start = this.pos;
      // Header lines are a few bytes: a plain loop beats a native indexOf call per reply.
      let lineEnd = start + 1;
      while (lineEnd < len && buf[lineEnd] !== CR) lineEnd++;
      if (lineEnd + 1 >= len) return;
      const type = buf[start];
      let value: RespReply;
      switch (type) {
        case 36: {
          // '$' bulk string
          const n = readInt(buf, start + 1, lineEnd);
          if (n < 0) {
            value = null;
            this.pos = lineEnd + 2;
            break;
          }
          const dataStart = lineEnd + 2;
          const end = dataStart + n;
          const kept = this.kept;
          this.kept = false;
          if (!kept && !this.keepBulk(n)) {
            this.pos = dataStart;
            this.skip = { left: n + 2, length: n };
            const rest = this.drain(buf.subarray(dataStart));
            if (this.skip) {
              this.buf = EMPTY;
              this.pos = 0;
              return;
            }
            this.pos = len - rest.length;
            continue;
          }
          if (end + 2 <= len) {
            value = buf.subarray(dataStart, end);
            this.pos = end + 2;
            break;
          }
          if (n >= BIG_BULK) {
            const target = Buffer.allocUnsafe(n);
            const have = Math.min(n, len - dataStart);
            buf.copy(target, 0, dataStart, dataStart + have);
            const crlfHave = Math.max(0, len - dataStart - n);
            this.big = { target, filled: have, crlfLeft: 2 - crlfHave };
            this.buf = EMPTY;
            this.pos = 0;
          } else {
            // Parsed again when more data arrives: keepBulk must not count it twice.
            this.kept = true;
          }
          return;
        }
        case 43: // '+' simple string
          value = simpleString(buf, start + 1, lineEnd);
          this.pos = lineEnd + 2;
          break;
        case 45: // '-' error
          value = new RespError(buf.toString('utf8', start + 1, lineEnd));
          this.pos = lineEnd + 2;
          break;
        case 58: // ':' integer
          value = readInt(buf, start + 1, lineEnd);
          this.pos = lineEnd + 2;
          break;
        case 42: {
          // '*' array
          const n = readInt(buf, start + 1, lineEnd);
          this.pos = lineEnd + 2;
          if (n < 0) value = null;
          else if (n === 0) value = [];
          else {
            this.stack.push({ items: [], size: n });
            continue;
          }
          break;
        }
        default:
          throw new RespConnectionError(`RESP protocol error: unexpected byte 0x${(type ?? 0).toString(16)}`);
      }
      this.emit(value);
    }
  }

  private emit(value: RespReply): void {
    let v = value;
    const stack = this.stack;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      top.items.push(v);
      if (top.items.length < top.size) return;
      stack.pop();
      v = top.items;
    }
    this.onReply(v);
  }
}

/** Decimal integer (optionally negative) between start and end, without allocating a string. */
function readInt(buf: Buffer, start: number, end: number): number {
  let i = start;
  let negative = false;
  if (buf[i] === 45) {
    negative = true;
    i++;
  }
  let n = 0;
  for (; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) throw new RespConnectionError('RESP protocol error: bad integer');
    n = n * 10 + d;
  }
  return negative ? -n : n;
}

/** Common status replies are returned as constants instead of decoding a new string each time. */
const COMMON = ['OK', 'QUEUED', 'string', 'hash', 'list', 'set', 'zset', 'stream', 'none', 'PONG'];
const COMMON_BYTES = COMMON.map((s) => Buffer.from(s));

function simpleString(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  if (n <= 6) {
    for (let c = 0; c < COMMON_BYTES.length; c++) {
      const candidate = COMMON_BYTES[c]!;
      if (candidate.length !== n || candidate[0] !== buf[start]) continue;
      let same = true;
      for (let i = 1; i < n; i++) {
        if (candidate[i] !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return COMMON[c]!;
    }
  }
  return buf.toString('utf8', start, end);
}
