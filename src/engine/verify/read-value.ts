// Reads values by type on one server, for the type-aware comparison. Every key's first chunk is
// read in one pipeline (GETRANGE 0..1MiB, LRANGE 0..n-1, SSCAN 0, HSCAN 0, ZRANGE 0..n-1): for
// small values (the usual case) that is the whole value. Bigger values continue chunk by chunk
// into a digest, so memory stays bounded by the chunk size whatever the value's size.
import { createHash } from 'node:crypto';
import type { CommandRunner } from '../resp/connection.js';
import { type RespArg, RespError, type RespReply } from '../resp/reply.js';
import { addZsetEntries, OrderedDigest, UnorderedDigest } from './digest.js';
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
}

/** Rescans of a set or hash whose SCAN returned more elements than it has (duplicates). */
const DUPLICATE_RESCANS = 2;
/** Strings are read in pieces of this many bytes (GETRANGE). */
export const STRING_CHUNK_BYTES = 1024 * 1024;
/** Big values and streams read at the same time (each takes several round trips). */
const PARALLEL_READS = 8;

function firstChunkCommand(item: ReadItem, chunk: number): RespArg[] | null {
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

function buffers(reply: RespReply): Buffer[] | null {
  return Array.isArray(reply) ? (reply as Buffer[]) : null;
}

function scanReply(reply: RespReply): { cursor: string; items: Buffer[] } | null {
  if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1])) return null;
  return { cursor: String(reply[0]), items: reply[1] as Buffer[] };
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
  /** Streams (read by readStreamView) and types without a type-aware read. */
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
  const replies = commands.length > 0 ? await runner.exec(commands) : [];
  const slow: { index: number; first: RespReply | null }[] = [];
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
  await forEachLimited(slow, PARALLEL_READS, async ({ index, first }) => {
    const item = items[index]!;
    if (first !== null) out[index] = await readBig(runner, item, first, chunk);
    else if (item.type === 'stream') {
      const stream = await readStreamView(runner, item.key, chunk);
      out[index] = stream ? { kind: 'stream', stream } : { kind: 'gone' };
    } else {
      out[index] = unsupported(item.type, 'no type-aware comparison for this type');
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

/** The value when the first chunk holds all of it, 'more' when it does not. */
function firstChunkView(type: string, reply: RespReply, chunk: number): ValueView | 'more' | 'empty' {
  switch (type) {
    case 'string':
      if (!Buffer.isBuffer(reply)) return { kind: 'gone' };
      if (reply.length === 0) return 'empty';
      if (reply.length >= STRING_CHUNK_BYTES) return 'more';
      return { kind: 'full', type: 'string', value: reply };
    case 'list':
    case 'zset': {
      const items = buffers(reply);
      // Lists and zsets are never empty: an empty reply means the key is gone.
      if (!items || items.length === 0) return { kind: 'gone' };
      const elements = type === 'zset' ? items.length / 2 : items.length;
      if (elements >= chunk) return 'more';
      return type === 'list' ? { kind: 'full', type, items } : { kind: 'full', type, entries: items };
    }
    case 'set':
    case 'hash': {
      const page = scanReply(reply);
      if (!page) return { kind: 'gone' };
      if (page.cursor !== '0') return 'more';
      if (page.items.length === 0) return { kind: 'gone' };
      return type === 'set'
        ? { kind: 'full', type, items: page.items }
        : { kind: 'full', type, entries: page.items };
    }
    default:
      return { kind: 'unsupported', type, reason: 'no type-aware comparison for this type' };
  }
}

async function readBig(
  runner: CommandRunner,
  item: ReadItem,
  first: RespReply,
  chunk: number,
): Promise<ValueView> {
  try {
    switch (item.type) {
      case 'string':
        return await readString(runner, item.key, first as Buffer);
      case 'list':
        return await readRanked(runner, item.key, 'list', buffers(first)!, chunk);
      case 'zset':
        return await readRanked(runner, item.key, 'zset', buffers(first)!, chunk);
      case 'set':
      case 'hash':
        return await readScanned(runner, item.key, item.type, scanReply(first)!, chunk);
      default:
        return unsupported(item.type, 'no chunked read for this type');
    }
  } catch (err) {
    if (err instanceof GoneError) return { kind: 'gone' };
    throw err;
  }
}

class GoneError extends Error {}

async function one(runner: CommandRunner, args: RespArg[]): Promise<RespReply> {
  const [reply] = await runner.exec([args]);
  if (reply instanceof RespError) {
    if (reply.code === 'WRONGTYPE') throw new GoneError(reply.message);
    throw new Error(`${String(args[0])}: ${reply.message}`);
  }
  return reply!;
}

/** A string of at least STRING_CHUNK_BYTES, as the SHA-256 of its bytes, a GETRANGE at a time. */
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
  return { kind: 'digest', type: 'string', count: length, hex: hash.digest('hex') };
}

/** Lists (LRANGE) and zsets (ZRANGE by rank) in order, a chunk at a time. */
async function readRanked(
  runner: CommandRunner,
  key: Buffer,
  type: 'list' | 'zset',
  firstPage: Buffer[],
  chunk: number,
): Promise<ValueView> {
  const digest = new OrderedDigest();
  const add = (page: Buffer[]) => {
    if (type === 'zset') addZsetEntries(digest, page);
    else for (const item of page) digest.add(item);
  };
  add(firstPage);
  let offset = chunk;
  for (;;) {
    const page =
      type === 'list'
        ? buffers(await one(runner, ['LRANGE', key, offset, offset + chunk - 1]))
        : buffers(await one(runner, ['ZRANGE', key, offset, offset + chunk - 1, 'WITHSCORES']));
    if (!page) throw new GoneError('no reply');
    add(page);
    const elements = type === 'zset' ? page.length / 2 : page.length;
    if (elements < chunk) break;
    offset += chunk;
  }
  if (digest.count === 0) return { kind: 'gone' };
  return { kind: 'digest', type, count: digest.count, hex: digest.hex };
}

/**
 * Sets (SSCAN) and hashes (HSCAN) into an order-independent digest. SCAN may return an element
 * twice when the table shrinks mid-scan; then the count exceeds SCARD/HLEN and the scan is redone.
 */
async function readScanned(
  runner: CommandRunner,
  key: Buffer,
  type: 'set' | 'hash',
  firstPage: { cursor: string; items: Buffer[] },
  chunk: number,
): Promise<ValueView> {
  const scan = type === 'set' ? 'SSCAN' : 'HSCAN';
  const cardCommand = type === 'set' ? 'SCARD' : 'HLEN';
  let page: { cursor: string; items: Buffer[] } | null = firstPage;
  for (let attempt = 0; ; attempt++) {
    const digest = new UnorderedDigest();
    for (;;) {
      const items = page.items;
      if (type === 'set') for (const m of items) digest.add(m);
      else for (let i = 0; i + 1 < items.length; i += 2) digest.add(items[i]!, items[i + 1]!);
      if (page.cursor === '0') break;
      page = scanReply(await one(runner, [scan, key, page.cursor, 'COUNT', chunk]));
      if (!page) throw new GoneError('no reply');
    }
    const card = Number(await one(runner, [cardCommand, key]));
    if (card === 0 || digest.count === 0) return { kind: 'gone' };
    if (digest.count <= card || attempt >= DUPLICATE_RESCANS) {
      return { kind: 'digest', type, count: digest.count, hex: digest.hex, card };
    }
    page = scanReply(await one(runner, [scan, key, 0, 'COUNT', chunk]));
    if (!page) throw new GoneError('no reply');
  }
}
