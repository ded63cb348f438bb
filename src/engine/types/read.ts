// Reads whole keys by type with native commands, pipelined across keys. For keys that fit in
// memory comfortably (below the big-key threshold); big keys are read with readChunks.
import type { CommandRunner } from '../resp/connection.js';
import { type RespArg, RespError, type RespReply, replyText } from '../resp/reply.js';
import { TypeChangedError } from './errors.js';
import { readPendingPages, readStreamMeta } from './stream.js';
import { isNativeType, type KeyValue, type StreamEntry, type StreamPendingEntry } from './value.js';

export interface KeyRead {
  key: Buffer;
  /** TYPE reply: a native type, `none` when missing, or a module type name. */
  type: string;
  /** PTTL at read time: -2 missing, -1 persistent, else milliseconds left. */
  pttl: number;
  /** null when the key is missing (or vanished between reads) or its type is not native. */
  value: KeyValue | null;
  /** Why it could not be read (e.g. kept changing type). */
  error?: string;
}

/** The command that reads a whole non-stream value. */
function readCommand(type: string, key: Buffer): RespArg[] {
  switch (type) {
    case 'string':
      return ['GET', key];
    case 'hash':
      return ['HGETALL', key];
    case 'list':
      return ['LRANGE', key, 0, -1];
    case 'set':
      return ['SMEMBERS', key];
    case 'zset':
      return ['ZRANGE', key, 0, -1, 'WITHSCORES'];
    default:
      throw new Error(`no whole-value read for type ${type}`);
  }
}

function buffers(reply: RespReply): Buffer[] | null {
  if (!Array.isArray(reply) || reply.length === 0) return null;
  return reply as Buffer[];
}

/** Turns a whole-value reply into a value; null when the key is gone. */
function toValue(type: string, reply: RespReply): KeyValue | null {
  switch (type) {
    case 'string':
      return Buffer.isBuffer(reply) ? { type: 'string', value: reply } : null;
    case 'hash': {
      const entries = buffers(reply);
      return entries ? { type: 'hash', entries } : null;
    }
    case 'list': {
      const items = buffers(reply);
      return items ? { type: 'list', items } : null;
    }
    case 'set': {
      const members = buffers(reply);
      return members ? { type: 'set', members } : null;
    }
    case 'zset': {
      const entries = buffers(reply);
      return entries ? { type: 'zset', entries } : null;
    }
    default:
      return null;
  }
}

/**
 * Type, PTTL and value of each key, in order. `pendingPageSize` bounds XPENDING pages for streams.
 * A key that changes type between TYPE and the read is retried once.
 */
export async function readKeys(
  runner: CommandRunner,
  keys: Buffer[],
  options: { retries?: number } = {},
): Promise<KeyRead[]> {
  if (keys.length === 0) return [];
  const head = await runner.exec(keys.flatMap((k) => [['TYPE', k] as RespArg[], ['PTTL', k] as RespArg[]]));
  const out: KeyRead[] = keys.map((key, i) => {
    const typeReply = head[2 * i]!;
    const pttlReply = head[2 * i + 1]!;
    if (typeReply instanceof RespError)
      return { key, type: 'none', pttl: -2, value: null, error: typeReply.message };
    return {
      key,
      type: replyText(typeReply) ?? 'none',
      pttl: typeof pttlReply === 'number' ? pttlReply : -2,
      value: null,
    };
  });

  const plain = out.filter((r) => isNativeType(r.type) && r.type !== 'stream');
  const changed: KeyRead[] = [];
  if (plain.length > 0) {
    const replies = await runner.exec(plain.map((r) => readCommand(r.type, r.key)));
    plain.forEach((r, i) => {
      const reply = replies[i]!;
      if (reply instanceof RespError) {
        if (reply.code === 'WRONGTYPE') changed.push(r);
        else r.error = reply.message;
        return;
      }
      r.value = toValue(r.type, reply);
    });
  }
  for (const r of out) {
    if (r.type !== 'stream') continue;
    try {
      r.value = await readStream(runner, r.key);
    } catch (err) {
      if (err instanceof TypeChangedError) changed.push(r);
      else r.error = (err as Error).message;
    }
  }
  if (changed.length > 0) {
    const retries = options.retries ?? 1;
    if (retries <= 0) {
      for (const r of changed) r.error = 'the key kept changing type while being read';
    } else {
      const again = await readKeys(
        runner,
        changed.map((r) => r.key),
        { retries: retries - 1 },
      );
      again.forEach((fresh, i) => {
        Object.assign(changed[i]!, fresh);
      });
    }
  }
  return out;
}

/** A whole stream with its metadata and PEL; null when it is gone. */
export async function readStream(runner: CommandRunner, key: Buffer): Promise<KeyValue | null> {
  const [range] = await runner.exec([['XRANGE', key, '-', '+']]);
  if (range instanceof RespError) {
    if (range.code === 'WRONGTYPE') throw new TypeChangedError(key);
    throw new Error(`XRANGE: ${range.message}`);
  }
  const meta = await readStreamMeta(runner, key);
  if (!meta) return null;
  const pending = new Map<string, StreamPendingEntry[]>();
  for (const g of meta.groups) {
    if (g.pendingCount === 0) continue;
    const all: StreamPendingEntry[] = [];
    for await (const page of readPendingPages(runner, key, g.name)) all.push(...page);
    pending.set(g.name.toString('latin1'), all);
  }
  return { type: 'stream', entries: parseEntries(range), meta, pending };
}

/** XRANGE reply -> entries. */
export function parseEntries(reply: RespReply): StreamEntry[] {
  const out: StreamEntry[] = [];
  if (!Array.isArray(reply)) return out;
  for (const row of reply) {
    if (!Array.isArray(row) || !Buffer.isBuffer(row[0])) continue;
    out.push({ id: row[0], fields: (Array.isArray(row[1]) ? row[1] : []) as Buffer[] });
  }
  return out;
}
