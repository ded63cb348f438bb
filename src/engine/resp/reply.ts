// Reply values of the lean RESP2 client. Bulk strings stay bytes (Buffer): keys and values are binary.

/**
 * An error reply (`-ERR ...`). Not an Error subclass on purpose: the hot path can get thousands
 * of them (e.g. RESTORE rejections) and capturing a stack for each would be wasted work.
 */
export class RespError {
  constructor(readonly message: string) {}

  /** The error code: the first word, e.g. `ERR`, `OOM`, `WRONGTYPE`, `NOPERM`. */
  get code(): string {
    const space = this.message.indexOf(' ');
    return space === -1 ? this.message : this.message.slice(0, space);
  }

  toString(): string {
    return this.message;
  }
}

/**
 * A bulk string the connection drained without keeping, because the pipeline it answered was over
 * its byte cap (see RespConnection.execEncoded): only its length is known.
 */
export class SkippedBulk {
  /** Tells it apart from a Buffer, which also has a length. */
  readonly skipped = true;
  constructor(readonly length: number) {}
}

/** Simple strings are strings, integers numbers, bulk strings Buffers, nil null. */
export type RespReply = string | number | Buffer | null | RespError | SkippedBulk | RespReply[];

/** Arguments are sent as bytes: Buffers as is, strings as UTF-8, numbers in decimal. */
export type RespArg = Buffer | string | number;

export function isRespError(reply: RespReply): reply is RespError {
  return reply instanceof RespError;
}

/** Thrown by call helpers when a single command answers with an error reply. */
export class RespCommandError extends Error {
  constructor(
    readonly reply: RespError,
    readonly command: string,
  ) {
    super(reply.message);
    this.name = 'RespCommandError';
  }
}

/** The connection broke (closed, reset, timed out) while commands were pending or being sent. */
export class RespConnectionError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'RespConnectionError';
  }
}

/** A reply as text (bulk or simple string), or undefined. */
export function replyText(reply: RespReply | undefined): string | undefined {
  if (typeof reply === 'string') return reply;
  if (Buffer.isBuffer(reply)) return reply.toString('utf8');
  if (typeof reply === 'number') return String(reply);
  return undefined;
}

/** A reply as an integer (integer reply or numeric text), or undefined. */
export function replyInt(reply: RespReply | undefined): number | undefined {
  if (typeof reply === 'number') return reply;
  const text = replyText(reply);
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}
