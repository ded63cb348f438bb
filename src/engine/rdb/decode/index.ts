// RDB values decoded into what recreates them with native commands on any Redis >= 6.2: for
// targets that cannot RESTORE the payload (an RDB version newer than theirs). One module per
// encoding family; each yields batches (parts.ts), so a big value is never one array.
import { TYPE_MODULE_2, TYPE_MODULE_PRE_GA, typeName } from '../format.js';
import type { RdbEntry } from '../reader.js';
import { corruptValue, ValueCursor } from './cursor.js';
import { countFieldTtls, FIELD_TTL_TYPES, hashParts } from './hash.js';
import { listParts, setParts } from './list-set.js';
import type { DecodedPart } from './parts.js';
import { streamParts } from './stream.js';
import { zsetParts } from './zset.js';

export { FIELD_TTL_TYPES } from './hash.js';
export { BATCH_BYTES, BATCH_ELEMENTS, type DecodedPart, type RdbPendingEntry } from './parts.js';

/** The payload's value bytes (after the type byte, before the version and CRC trailer). */
function cursorOf(entry: RdbEntry): ValueCursor {
  return new ValueCursor(entry.payload, 1, entry.payload.length - 10);
}

/**
 * The value of an entry, part by part. Throws RdbError 'corrupt' for bytes that cannot be what
 * the type says, and for module values (only their module can read them).
 */
export function* decodeValue(entry: RdbEntry): Generator<DecodedPart> {
  const c = cursorOf(entry);
  const type = entry.type;
  switch (typeName(type)) {
    case 'string':
      yield { kind: 'chunk', chunk: { type: 'string', value: c.string() } };
      break;
    case 'list':
      yield* listParts(type, c);
      break;
    case 'set':
      yield* setParts(type, c);
      break;
    case 'zset':
      yield* zsetParts(type, c);
      break;
    case 'hash':
      yield* hashParts(type, c);
      break;
    case 'stream':
      yield* streamParts(type, c);
      break;
    default:
      if (type === TYPE_MODULE_2 || type === TYPE_MODULE_PRE_GA) {
        throw corruptValue('module values can only be read by their module');
      }
      throw corruptValue(`unknown value type ${type}`);
  }
  if (!c.atEnd) throw corruptValue(`${c.buf.length - 10 - c.p} bytes left after the ${typeName(type)}`);
}

/** How many fields of a hash entry have a TTL (0 for every other type). */
export function fieldTtlCount(entry: RdbEntry): number {
  return FIELD_TTL_TYPES.has(entry.type) ? countFieldTtls(entry.type, cursorOf(entry)) : 0;
}
