// Lists (linked list, ziplist, quicklist of ziplists, quicklist 2 of listpack and plain nodes)
// and sets (hash table, intset, listpack) as batches of RPUSH / SADD elements.
import type { ValueCursor } from './cursor.js';
import { corruptValue } from './cursor.js';
import { intsetMembers } from './intset-zipmap.js';
import { listpackElements } from './listpack.js';
import { type Packed, packedBytes } from './packed.js';
import { Batcher, type DecodedPart } from './parts.js';
import { ziplistElements } from './ziplist.js';

/** quicklist 2 node containers (quicklist.h). */
const QUICKLIST_NODE_PLAIN = 1;
const QUICKLIST_NODE_PACKED = 2;

/** The elements of a list value, in order, whatever its encoding. */
function* listElements(type: number, c: ValueCursor): Generator<Packed> {
  switch (type) {
    case 1: {
      for (let n = c.len(); n > 0; n--) yield c.string();
      return;
    }
    case 10:
      yield* ziplistElements(c.string());
      return;
    case 14: {
      for (let n = c.len(); n > 0; n--) yield* ziplistElements(c.string());
      return;
    }
    case 18: {
      for (let n = c.len(); n > 0; n--) {
        const container = c.len();
        const node = c.string();
        if (container === QUICKLIST_NODE_PLAIN) yield node;
        else if (container === QUICKLIST_NODE_PACKED) yield* listpackElements(node);
        else throw corruptValue(`unknown quicklist node container ${container}`);
      }
      return;
    }
    default:
      throw corruptValue(`type ${type} is not a list`);
  }
}

function* setMembers(type: number, c: ValueCursor): Generator<Packed> {
  switch (type) {
    case 2: {
      for (let n = c.len(); n > 0; n--) yield c.string();
      return;
    }
    case 11:
      yield* intsetMembers(c.string());
      return;
    case 20:
      yield* listpackElements(c.string());
      return;
    default:
      throw corruptValue(`type ${type} is not a set`);
  }
}

export function* listParts(type: number, c: ValueCursor): Generator<DecodedPart> {
  const batch = new Batcher();
  for (const v of listElements(type, c)) {
    if (batch.add(packedBytes(v))) yield { kind: 'chunk', chunk: { type: 'list', items: batch.take() } };
  }
  if (!batch.empty) yield { kind: 'chunk', chunk: { type: 'list', items: batch.take() } };
}

export function* setParts(type: number, c: ValueCursor): Generator<DecodedPart> {
  const batch = new Batcher();
  for (const v of setMembers(type, c)) {
    if (batch.add(packedBytes(v))) yield { kind: 'chunk', chunk: { type: 'set', members: batch.take() } };
  }
  if (!batch.empty) yield { kind: 'chunk', chunk: { type: 'set', members: batch.take() } };
}
