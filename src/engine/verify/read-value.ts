// Reads values by type on one server, for the type-aware comparison. Every key's first chunk is
// read in one pipeline (GETRANGE 0..1MiB, LRANGE 0..n-1, SSCAN 0, HSCAN 0, ZRANGE 0..n-1), whose
// replies keep at most FIRST_PAGE_BYTES: for small values (the usual case) that is the whole value.
// Bigger values, those cut off by that cap and those known to be big beforehand (MEMORY USAGE, a
// drained DUMP payload), are read chunk by chunk into a digest. Each chunked read asks for as many
// elements as fit in READ_BYTES, judged by the biggest element of the previous read, and keeps at
// most READ_BYTES of the reply: when an element turns out bigger, the elements before it count,
// the read is asked again from there with fewer elements, and one element bigger than READ_BYTES
// is read on its own. So memory stays bounded by READ_BYTES (or by the biggest single element)
// whatever the value's size, for list elements, set members, hash values, zset members and stream
// entries alike, with no server-side digest (DEBUG DIGEST-VALUE is off on most servers).
import { createHash } from 'node:crypto';
import type { CommandRunner } from '../resp/connection.js';
import { type RespArg, RespError, type RespReply, SkippedBulk } from '../resp/reply.js';
import { addZsetEntries, OrderedDigest, UnorderedDigest } from './digest.js';
import { type ReadSizer, readSizer } from './read-size.js';
import { readStreamView, type StreamView } from './read-stream.js';

export type ValueView =
  | { kind: 'full'; type: 'string'; value: Buffer }
  | { kind: 'full'; type: 'list' | 'set'; items: Buffer[] }
  /** hash: field, value...; zset: member, score... as ZRANGE WITHSCORES prints them. */
  | { kind: 'full'; type: 'hash' | 'zset'; entries: Buffer[] }
  /** card: SCARD/HLEN read after the scan, to tell SCAN duplicates from a real difference. */
  /** count: elements, or bytes for a string (SHA-256 of its bytes). */
  | {
      kind: 'digest';
      type: 'string' | 'list' | 'set' | 'hash' | 'zset';
      count: number;
      hex: string;
      card?: number;
    }
  | { kind: 'stream'; stream: StreamView }
  /** The key vanished or changed type while it was being read. */
  | { kind: 'gone' }
  | { kind: 'unsupported'; type: string; reason: string };

export interface ReadItem {
  key: Buffer;
  type: string;
  /** Known to be big (MEMORY USAGE, a drained DUMP payload): read in chunks from the start. */
  big?: boolean;
}

/** Rescans of a set or hash whose SCAN returned more elements than it has (duplicates). */
const DUPLICATE_RESCANS = 2;
/** Strings are read in pieces of this many bytes (GETRANGE). */
export const STRING_CHUNK_BYTES = 1024 * 1024;
/** Bulk-string bytes the first-chunk pipeline of a batch keeps per server; beyond, keys are re-read in chunks. */
const FIRST_PAGE_BYTES = 8 * 1024 * 1024;
/** Big values and streams read at the same time (each takes several round trips). */
const PARALLEL_READS = 8;

function firstChunkCommand(item: ReadItem, chunk: number): RespArg[] | null {
  if (item.big) return null;
  const k = item.key;
  switch (item.type) {
    case 'string':
      return ['GETRANGE', k, 0, STRING_CHUNK_BYTES - 1];
    case 'list':
      return ['LRANGE', k, 0, chunk - 1];
    case 'set':
      return ['SSCAN', k, 0, 'COUNT', chunk];
    case 'hash':
      return ['HSCAN', k, 0, 'COUNT', chunk];
    case 'zset':
      return ['ZRANGE', k, 0, chunk - 1, 'WITHSCORES'];
    default:
      return null;
  }
}

type Item = Buffer | SkippedBulk;

function items(reply: RespReply): Item[] | null {
  return Array.isArray(reply) ? (reply as Item[]) : null;
}

function scanReply(reply: RespReply): { cursor: string; items: Item[] } | null {
  if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1])) return null;
  return { cursor: String(reply[0]), items: reply[1] as Item[] };
}

/**
 * Elements (groups of `width` items: 2 for field/value or member/score) before the first one with
 * a drained part, and the biggest element's bytes, drained ones included.
 */
export function wholeElements(page: readonly Item[], width: number): { whole: number; biggest: number } {
  let whole = -1;
  let biggest = 0;
  for (let e = 0; e * width < page.length; e++) {
    let bytes = 0;
    for (let j = 0; j < width; j++) {
      const part = page[e * width + j];
      if (part instanceof SkippedBulk && whole === -1) whole = e;
      bytes += part ? part.length : 0;
    }
    if (bytes > biggest) biggest = bytes;
  }
  return { whole: whole === -1 ? Math.floor(page.length / width) : whole, biggest };
}

/** Reads the values of these keys (types as seen just before) on one server. */
export async function readValues(
  runner: CommandRunner,
  items: readonly ReadItem[],
  chunk: number,
  where = 'server',
): Promise<ValueView[]> {
  const out: ValueView[] = new Array(items.length);
  const commands: RespArg[][] = [];
  const commandIndex: number[] = [];
  /** Streams (read by readStreamView), big values and types without a type-aware read. */
  const noFirstChunk: number[] = [];
  items.forEach((item, i) => {
    const cmd = firstChunkCommand(item, chunk);
    if (cmd) {
      commandIndex.push(i);
      commands.push(cmd);
    } else {
      noFirstChunk.push(i);
    }
  });
  const replies = commands.length > 0 ? await runner.exec(commands, FIRST_PAGE_BYTES) : [];
  /** first: an uncut first chunk to go on from; biggest: the biggest element of a cut one. */
  const slow: { index: number; first: RespReply | null; biggest?: number }[] = [];
  const emptyStrings: number[] = [];
  commandIndex.forEach((i, j) => {
    const item = items[i]!;
    const reply = replies[j]!;
    if (reply instanceof RespError) {
      // WRONGTYPE: the key changed type since TYPE/DUMP. Anything else (NOPERM...) stops the run.
      if (reply.code !== 'WRONGTYPE')
        throw new Error(`${String(commands[j]![0])} on the ${where} failed: ${reply.message}`);
      out[i] = { kind: 'gone' };
      return;
    }
    const view = firstChunkView(item.type, reply, chunk);
    if (view === 'more') slow.push({ index: i, first: reply });
    else if (typeof view === 'object' && 'cut' in view)
      slow.push({ index: i, first: null, biggest: view.cut });
    else if (view === 'empty') emptyStrings.push(i);
    else out[i] = view;
  });
  if (emptyStrings.length > 0) {
    // GETRANGE answers "" for an empty string and for a missing key alike.
    const exists = await runner.exec(emptyStrings.map((i) => ['EXISTS', items[i]!.key]));
    emptyStrings.forEach((i, j) => {
      out[i] = exists[j] === 1 ? { kind: 'full', type: 'string', value: Buffer.alloc(0) } : { kind: 'gone' };
    });
  }
  for (const i of noFirstChunk) slow.push({ index: i, first: null });
  await forEachLimited(slow, PARALLEL_READS, async ({ index, first, biggest }) => {
    const item = items[index]!;
    if (item.type === 'stream') {
      const stream = await readStreamView(runner, item.key, chunk, Boolean(item.big));
      out[index] = stream ? { kind: 'stream', stream } : { kind: 'gone' };
    } else {
      out[index] = await readBig(runner, item, first, chunk, biggest);
    }
  });
  return out;
}

/** Runs `work` on every item, at most `limit` at a time. */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function unsupported(type: string, reason: string): ValueView {
  return { kind: 'unsupported', type, reason };
}

/**
 * The value when the first chunk holds all of it; 'more' when it holds only the start; `cut`
 * (with its biggest element) when the pipeline's byte cap drained part of it: read again in
 * chunks from the start.
 */
function firstChunkView(
  type: string,
  reply: RespReply,
  chunk: number,
): ValueView | 'more' | { cut: number } | 'empty' {
  switch (type) {
    case 'string':
      if (reply instanceof SkippedBulk) return { cut: STRING_CHUNK_BYTES };
      if (!Buffer.isBuffer(reply)) return { kind: 'gone' };
      if (reply.length === 0) return 'empty';
      if (reply.length >= STRING_CHUNK_BYTES) return 'more';
      return { kind: 'full', type: 'string', value: reply };
    case 'list':
    case 'zset': {
      const page = items(reply);
      // Lists and zsets are never empty: an empty reply means the key is gone.
      if (!page || page.length === 0) return { kind: 'gone' };
      const width = type === 'zset' ? 2 : 1;
      const { whole: uncut, biggest } = wholeElements(page, width);
      if (uncut * width < page.length) return { cut: biggest };
      if (page.length / width >= chunk) return 'more';
      const whole = page as Buffer[];
      return type === 'list' ? { kind: 'full', type, items: whole } : { kind: 'full', type, entries: whole };
    }
    case 'set':
    case 'hash': {
      const page = scanReply(reply);
      if (!page) return { kind: 'gone' };
      const width = type === 'hash' ? 2 : 1;
      const { whole: uncut, biggest } = wholeElements(page.items, width);
      if (uncut * width < page.items.length) return { cut: biggest };
      if (page.cursor !== '0') return 'more';
      if (page.items.length === 0) return { kind: 'gone' };
      const whole = page.items as Buffer[];
      return type === 'set' ? { kind: 'full', type, items: whole } : { kind: 'full', type, entries: whole };
    }
    default:
      return { kind: 'unsupported', type, reason: 'no type-aware comparison for this type' };
  }
}

/** A value read in chunks; `first` is its uncut first chunk from the pipeline, if any. */
async function readBig(
  runner: CommandRunner,
  item: ReadItem,
  first: RespReply | null,
  chunk: number,
  biggest?: number,
): Promise<ValueView> {
  try {
    switch (item.type) {
      case 'string':
        return await readString(runner, item.key, (first as Buffer | null) ?? Buffer.alloc(0));
      case 'list':
      case 'zset':
        return await readRanked(
          runner,
          item.key,
          item.type,
          first === null ? null : (first as Buffer[]),
          readSizer(chunk, biggest),
        );
      case 'set':
      case 'hash':
        return await readScanned(runner, item.key, item.type, first === null ? null : scanReply(first), () =>
          readSizer(chunk, biggest),
        );
      default:
        return unsupported(item.type, 'no chunked read for this type');
    }
  } catch (err) {
    if (err instanceof GoneError) return { kind: 'gone' };
    throw err;
  }
}

class GoneError extends Error {}

async function one(runner: CommandRunner, args: RespArg[], maxBulkBytes?: number): Promise<RespReply> {
  const [reply] = await runner.exec([args], maxBulkBytes);
  if (reply instanceof RespError) {
    if (reply.code === 'WRONGTYPE') throw new GoneError(reply.message);
    throw new Error(`${String(args[0])}: ${reply.message}`);
  }
  return reply!;
}

/** A string, as the SHA-256 of its bytes, a GETRANGE at a time after `first`. */
async function readString(runner: CommandRunner, key: Buffer, first: Buffer): Promise<ValueView> {
  const hash = createHash('sha256');
  hash.update(first);
  let length = first.length;
  for (;;) {
    const piece = await one(runner, ['GETRANGE', key, length, length + STRING_CHUNK_BYTES - 1]);
    if (!Buffer.isBuffer(piece)) throw new GoneError('no reply');
    hash.update(piece);
    length += piece.length;
    if (piece.length < STRING_CHUNK_BYTES) break;
  }
  // GETRANGE answers "" for a missing key as for an empty string.
  if (length === 0 && (await one(runner, ['EXISTS', key])) !== 1) throw new GoneError('gone');
  return { kind: 'digest', type: 'string', count: length, hex: hash.digest('hex') };
}

/** Lists (LRANGE) and zsets (ZRANGE by rank) in order, a budgeted chunk at a time. */
async function readRanked(
  runner: CommandRunner,
  key: Buffer,
  type: 'list' | 'zset',
  firstPage: Buffer[] | null,
  sizer: ReadSizer,
): Promise<ValueView> {
  const digest = new OrderedDigest();
  const width = type === 'zset' ? 2 : 1;
  const add = (page: readonly Item[], elements: number) => {
    const whole = page.slice(0, elements * width) as Buffer[];
    if (type === 'zset') addZsetEntries(digest, whole);
    else for (const item of whole) digest.add(item);
  };
  let offset = 0;
  if (firstPage) {
    add(firstPage, firstPage.length / width);
    offset = firstPage.length / width;
    sizer.saw(wholeElements(firstPage, width).biggest);
  }
  for (;;) {
    const count = sizer.count;
    const stop = offset + count - 1;
    const args: RespArg[] =
      type === 'list' ? ['LRANGE', key, offset, stop] : ['ZRANGE', key, offset, stop, 'WITHSCORES'];
    const page = items(await one(runner, args, sizer.cap));
    if (!page) throw new GoneError('no reply');
    const { whole, biggest } = wholeElements(page, width);
    add(page, whole);
    offset += whole;
    sizer.saw(biggest, whole * width < page.length);
    if (whole * width === page.length && page.length / width < count) break;
  }
  if (digest.count === 0) return { kind: 'gone' };
  return { kind: 'digest', type, count: digest.count, hex: digest.hex };
}

/**
 * Sets (SSCAN) and hashes (HSCAN) into an order-independent digest. SCAN may return an element
 * twice when the table shrinks mid-scan; then the count exceeds SCARD/HLEN and the scan is redone.
 * A page with a drained element is asked again from the same cursor with a smaller COUNT.
 */
async function readScanned(
  runner: CommandRunner,
  key: Buffer,
  type: 'set' | 'hash',
  firstPage: { cursor: string; items: Item[] } | null,
  newSizer: () => ReadSizer,
): Promise<ValueView> {
  const scan = type === 'set' ? 'SSCAN' : 'HSCAN';
  const cardCommand = type === 'set' ? 'SCARD' : 'HLEN';
  const width = type === 'set' ? 1 : 2;
  let page: { cursor: string; items: Item[] } | null = firstPage;
  for (let attempt = 0; ; attempt++) {
    const digest = new UnorderedDigest();
    const sizer = newSizer();
    let cursor = '0';
    for (;;) {
      if (!page) {
        page = scanReply(await one(runner, [scan, key, cursor, 'COUNT', sizer.count], sizer.cap));
        if (!page) throw new GoneError('no reply');
      }
      const { whole, biggest } = wholeElements(page.items, width);
      const cut = whole * width < page.items.length;
      sizer.saw(biggest, cut);
      if (!cut) {
        const got = page.items as Buffer[];
        if (type === 'set') for (const m of got) digest.add(m);
        else for (let i = 0; i + 1 < got.length; i += 2) digest.add(got[i]!, got[i + 1]!);
        cursor = page.cursor;
        if (cursor === '0') break;
      }
      page = null;
    }
    const card = Number(await one(runner, [cardCommand, key]));
    if (card === 0 || digest.count === 0) return { kind: 'gone' };
    if (digest.count <= card || attempt >= DUPLICATE_RESCANS) {
      return { kind: 'digest', type, count: digest.count, hex: digest.hex, card };
    }
  }
}
