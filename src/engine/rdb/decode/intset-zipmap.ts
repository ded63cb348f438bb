// The two oldest compact encodings: intsets (intset.c: encoding and count as uint32 LE, then the
// integers, little-endian, of 2, 4 or 8 bytes) and zipmaps (zipmap.c, hashes before RDB 4).
import { corruptValue } from './cursor.js';
import { int64, type Packed } from './packed.js';

export function* intsetMembers(is: Buffer): Generator<Packed> {
  if (is.length < 8) throw corruptValue('intset shorter than its header');
  const width = is.readUInt32LE(0);
  const count = is.readUInt32LE(4);
  if (![2, 4, 8].includes(width) || 8 + width * count > is.length) throw corruptValue('bad intset');
  for (let i = 0, p = 8; i < count; i++, p += width) {
    if (width === 2) yield is.readInt16LE(p);
    else if (width === 4) yield is.readInt32LE(p);
    else yield int64(is.readUInt32LE(p), is.readUInt32LE(p + 4));
  }
}

/** Field, value, field, value... of a zipmap: 1-byte count, then length-prefixed pairs, 0xFF. */
export function* zipmapEntries(zm: Buffer): Generator<Buffer> {
  let p = 1;
  const length = (): number => {
    const b = zm[p]!;
    if (b < 254) {
      p += 1;
      return b;
    }
    if (b === 254) {
      p += 5;
      return zm.readUInt32LE(p - 4);
    }
    throw corruptValue('bad zipmap length');
  };
  for (;;) {
    if (p >= zm.length) throw corruptValue('zipmap without its end byte');
    if (zm[p] === 0xff) return;
    const flen = length();
    const field = zm.subarray(p, p + flen);
    p += flen;
    const vlen = length();
    const free = zm[p++]!;
    const value = zm.subarray(p, p + vlen);
    p += vlen + free;
    if (p > zm.length) throw corruptValue('zipmap entry past its end');
    yield field;
    yield value;
  }
}
