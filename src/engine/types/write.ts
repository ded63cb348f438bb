// Commands that recreate a value (or append a chunk of one) with native commands. Pure functions:
// the caller decides where they run (MULTI block, temporary key) and what happens to the TTL.
import type { RespArg } from '../resp/reply.js';
import { emptyStreamCommands, pendingCommands, streamMetaCommands } from './stream.js';
import type { KeyValue, TargetFeatures, ValueChunk } from './value.js';

/** Elements per command and bytes per command, so no single command gets huge. */
const MAX_ELEMENTS = 1024;
const MAX_COMMAND_BYTES = 1024 * 1024;

/**
 * Commands that add a chunk to `key` (created when missing). For strings the chunk is appended,
 * so a whole value written as one chunk into an absent key is just the value.
 */
export function chunkWriteCommands(key: Buffer, chunk: ValueChunk): RespArg[][] {
  switch (chunk.type) {
    case 'string':
      return [['APPEND', key, chunk.value]];
    case 'hash':
      return grouped(['HSET', key], chunk.entries, 2);
    case 'list':
      return grouped(['RPUSH', key], chunk.items, 1);
    case 'set':
      return grouped(['SADD', key], chunk.members, 1);
    case 'zset': {
      // ZRANGE/ZSCAN give member, score; ZADD wants score, member.
      const swapped: Buffer[] = new Array(chunk.entries.length);
      for (let i = 0; i + 1 < chunk.entries.length; i += 2) {
        swapped[i] = chunk.entries[i + 1]!;
        swapped[i + 1] = chunk.entries[i]!;
      }
      return grouped(['ZADD', key], swapped, 2);
    }
    case 'stream':
      return chunk.entries.map((e) => ['XADD', key, e.id, ...e.fields]);
  }
}

/** Commands that create `key` holding the whole value, assuming the key does not exist. */
export function valueWriteCommands(key: Buffer, value: KeyValue, features: TargetFeatures): RespArg[][] {
  if (value.type === 'string') return [['SET', key, value.value]];
  if (value.type !== 'stream') return chunkWriteCommands(key, value);
  const cmds: RespArg[][] =
    value.entries.length > 0
      ? chunkWriteCommands(key, { type: 'stream', entries: value.entries })
      : emptyStreamCommands(key);
  cmds.push(...streamMetaCommands(key, value.meta, features));
  for (const g of value.meta.groups) {
    const pending = value.pending.get(g.name.toString('latin1'));
    if (pending && pending.length > 0) cmds.push(...pendingCommands(key, g.name, pending));
  }
  return cmds;
}

/** Splits elements into commands of at most MAX_ELEMENTS units / MAX_COMMAND_BYTES bytes. */
function grouped(prefix: RespArg[], elements: Buffer[], unit: number): RespArg[][] {
  const out: RespArg[][] = [];
  let current: RespArg[] = [...prefix];
  let units = 0;
  let bytes = 0;
  for (let i = 0; i < elements.length; i += unit) {
    let size = 0;
    for (let j = 0; j < unit; j++) size += elements[i + j]!.length;
    if (units > 0 && (units >= MAX_ELEMENTS || bytes + size > MAX_COMMAND_BYTES)) {
      out.push(current);
      current = [...prefix];
      units = 0;
      bytes = 0;
    }
    for (let j = 0; j < unit; j++) current.push(elements[i + j]!);
    units++;
    bytes += size;
  }
  if (units > 0) out.push(current);
  return out;
}
