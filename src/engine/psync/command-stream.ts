// The replication stream cut into commands: RESP arrays of bulk strings (what a source
// propagates), and inline commands (a bare line) for completeness. Each command carries its
// arguments (views into the received bytes, not copies), its raw bytes (passed on to the target
// as they are) and the replication offset after it: the offset counts every byte of the stream.
export interface StreamCommand {
  argv: Buffer[];
  raw: Buffer;
  /** Replication offset once this command is consumed. */
  end: number;
}

export class StreamFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StreamFormatError';
  }
}

const STAR = 0x2a;
const DOLLAR = 0x24;
const CR = 0x0d;
const LF = 0x0a;
/** A bulk string's length line may not be longer than this (it is digits). */
const MAX_LINE = 64 * 1024;

export class CommandStream {
  private buf: Buffer = Buffer.alloc(0);
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes from the buffer's start needed before the incomplete command can be parsed. */
  private need = 0;

  /** @param offset the replication offset of the byte before the first one fed */
  constructor(private offset: number) {}

  /** Replication offset after the last complete command. */
  get consumed(): number {
    return this.offset;
  }

  /** Bytes held for an incomplete command. */
  get buffered(): number {
    return this.buf.length + this.pendingBytes;
  }

  /** The complete commands in the bytes so far, in order. */
  feed(chunk: Buffer): StreamCommand[] {
    if (chunk.length === 0) return [];
    if (this.buf.length + this.pendingBytes + chunk.length < this.need) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      return [];
    }
    const buf =
      this.buf.length === 0 && this.pending.length === 0
        ? chunk
        : Buffer.concat([this.buf, ...this.pending, chunk]);
    this.pending = [];
    this.pendingBytes = 0;
    this.need = 0;
    const out: StreamCommand[] = [];
    let pos = 0;
    for (;;) {
      if (pos >= buf.length) break;
      const argv: Buffer[] = [];
      const end = buf[pos] === STAR ? this.parseArray(buf, pos, argv) : this.parseInline(buf, pos, argv);
      if (end < 0) break;
      this.offset += end - pos;
      out.push({ argv, raw: buf.subarray(pos, end), end: this.offset });
      pos = end;
    }
    this.buf = pos === buf.length ? Buffer.alloc(0) : buf.subarray(pos);
    if (this.need > 0) this.need -= pos;
    return out;
  }

  /** End index of the array command at `pos`, or -1 (and `need` set) when it is incomplete. */
  private parseArray(buf: Buffer, pos: number, argv: Buffer[]): number {
    const start = pos;
    let eol = lineEnd(buf, pos + 1);
    if (eol < 0) return this.short(buf, start, pos + 3);
    const count = parseLength(buf, pos + 1, eol);
    pos = eol + 2;
    for (let i = 0; i < count; i++) {
      if (pos >= buf.length) return this.short(buf, start, pos + 4);
      if (buf[pos] !== DOLLAR)
        throw new StreamFormatError(`expected a bulk string at stream offset ${this.offset + (pos - start)}`);
      eol = lineEnd(buf, pos + 1);
      if (eol < 0) return this.short(buf, start, pos + 4);
      const len = parseLength(buf, pos + 1, eol);
      const dataStart = eol + 2;
      const dataEnd = dataStart + len;
      if (dataEnd + 2 > buf.length) return this.short(buf, start, dataEnd + 2);
      argv.push(buf.subarray(dataStart, dataEnd));
      pos = dataEnd + 2;
    }
    return pos;
  }

  private parseInline(buf: Buffer, pos: number, argv: Buffer[]): number {
    const nl = buf.indexOf(LF, pos);
    if (nl < 0) {
      if (buf.length - pos > MAX_LINE) throw new StreamFormatError('an inline command longer than 64 KiB');
      return this.short(buf, pos, buf.length + 1);
    }
    const lineEndAt = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
    for (const word of buf.subarray(pos, lineEndAt).toString('latin1').split(' ')) {
      if (word !== '') argv.push(Buffer.from(word, 'latin1'));
    }
    return nl + 1;
  }

  /** Marks the command at `start` incomplete: at least `upTo` bytes of `buf` are needed. */
  private short(buf: Buffer, start: number, upTo: number): number {
    if (upTo - start > MAX_LINE && buf.length - start > MAX_LINE && lineEnd(buf, start + 1) < 0) {
      throw new StreamFormatError('a command header longer than 64 KiB');
    }
    this.need = upTo;
    return -1;
  }
}

function lineEnd(buf: Buffer, from: number): number {
  const cr = buf.indexOf(CR, from);
  if (cr < 0 || cr + 1 >= buf.length) return -1;
  if (buf[cr + 1] !== LF) throw new StreamFormatError('a line without CRLF in the replication stream');
  return cr;
}

function parseLength(buf: Buffer, from: number, to: number): number {
  let n = 0;
  if (from === to) throw new StreamFormatError('an empty length in the replication stream');
  for (let i = from; i < to; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9)
      throw new StreamFormatError('a length that is not a number in the replication stream');
    n = n * 10 + d;
  }
  return n;
}
