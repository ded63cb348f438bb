// Reads a big value a bounded chunk at a time (HSCAN/SSCAN/ZSCAN, LRANGE and XRANGE windows,
// GETRANGE slices), so memory stays bounded whatever the key's size. Chunk sizes adapt to the
// element sizes seen so far to stay near the byte target.
import type { CommandRunner } from '../resp/connection.js';
import { type RespArg, RespError, replyText } from '../resp/reply.js';
import { TypeChangedError } from './errors.js';
import { parseEntries } from './read.js';
import { nextStreamId } from './stream.js';
import { type NativeType, type ValueChunk, valueBytes } from './value.js';

export interface ChunkOptions {
  /** Aim for chunks of about this many bytes (default 1 MiB). */
  chunkBytes?: number;
  /** Elements asked for in the first round (default 128). */
  initialCount?: number;
}

export async function* readChunks(
  runner: CommandRunner,
  key: Buffer,
  type: NativeType,
  options: ChunkOptions = {},
): AsyncGenerator<ValueChunk> {
  const target = options.chunkBytes ?? 1024 * 1024;
  let count = options.initialCount ?? 128;
  const adapt = (bytes: number, elements: number) => {
    if (elements === 0) return;
    const perElement = Math.max(1, bytes / elements);
    count = Math.max(1, Math.min(100_000, Math.floor(target / perElement)));
  };
  const run = async (cmd: RespArg[]) => {
    const [reply] = await runner.exec([cmd]);
    if (reply instanceof RespError) {
      if (reply.code === 'WRONGTYPE') throw new TypeChangedError(key);
      throw new Error(`${String(cmd[0])}: ${reply.message}`);
    }
    return reply!;
  };

  switch (type) {
    case 'string': {
      for (let offset = 0; ; offset += target) {
        const reply = await run(['GETRANGE', key, offset, offset + target - 1]);
        const value = Buffer.isBuffer(reply) ? reply : Buffer.alloc(0);
        if (value.length > 0) yield { type: 'string', value };
        if (value.length < target) return;
      }
    }
    case 'hash':
    case 'set':
    case 'zset': {
      const command = type === 'hash' ? 'HSCAN' : type === 'set' ? 'SSCAN' : 'ZSCAN';
      let cursor = '0';
      do {
        const reply = await run([command, key, cursor, 'COUNT', count]);
        if (!Array.isArray(reply)) return;
        cursor = replyText(reply[0]) ?? '0';
        const items = (reply[1] ?? []) as Buffer[];
        if (items.length === 0) continue;
        const chunk: ValueChunk =
          type === 'hash'
            ? { type, entries: items }
            : type === 'set'
              ? { type, members: items }
              : { type, entries: items };
        adapt(valueBytes(chunk), type === 'set' ? items.length : items.length / 2);
        yield chunk;
      } while (cursor !== '0');
      return;
    }
    case 'list': {
      for (let start = 0; ; ) {
        const reply = await run(['LRANGE', key, start, start + count - 1]);
        const items = (Array.isArray(reply) ? reply : []) as Buffer[];
        if (items.length > 0) yield { type: 'list', items };
        if (items.length < count) return;
        start += items.length;
        adapt(valueBytes({ type: 'list', items }), items.length);
      }
    }
    case 'stream': {
      let start: Buffer | string = '-';
      for (;;) {
        const reply = await run(['XRANGE', key, start, '+', 'COUNT', count]);
        const entries = parseEntries(reply);
        if (entries.length > 0) yield { type: 'stream', entries };
        if (entries.length < count) return;
        start = nextStreamId(entries[entries.length - 1]!.id);
        adapt(valueBytes({ type: 'stream', entries }), entries.length);
      }
    }
  }
}
