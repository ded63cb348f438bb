// Sorted sets (string scores, binary double scores, ziplist, listpack) as batches of
// member, score pairs (the ZRANGE WITHSCORES order; the writer turns them into ZADD).
import { corruptValue, doubleText, type ValueCursor } from './cursor.js';
import { listpackElements } from './listpack.js';
import { type Packed, packedBytes } from './packed.js';
import { Batcher, type DecodedPart } from './parts.js';
import { ziplistElements } from './ziplist.js';

function* pairs(type: number, c: ValueCursor): Generator<[Buffer, Buffer]> {
  if (type === 3 || type === 5) {
    for (let n = c.len(); n > 0; n--) {
      const member = c.string();
      yield [member, type === 3 ? c.oldDouble() : doubleText(c.binaryDouble())];
    }
    return;
  }
  if (type !== 12 && type !== 17) throw corruptValue(`type ${type} is not a sorted set`);
  const blob = c.string();
  let member: Packed | null = null;
  for (const v of type === 12 ? ziplistElements(blob) : listpackElements(blob)) {
    if (member === null) member = v;
    else {
      yield [packedBytes(member), packedBytes(v)];
      member = null;
    }
  }
  if (member !== null) throw corruptValue('a sorted set member without its score');
}

export function* zsetParts(type: number, c: ValueCursor): Generator<DecodedPart> {
  const batch = new Batcher();
  for (const [member, score] of pairs(type, c)) {
    if (batch.add(member, score)) yield { kind: 'chunk', chunk: { type: 'zset', entries: batch.take() } };
  }
  if (!batch.empty) yield { kind: 'chunk', chunk: { type: 'zset', entries: batch.take() } };
}
