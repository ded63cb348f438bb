// Listpack elements (redis/redis listpack.c): a 6-byte header (total bytes, element count), then
// each element as its encoding byte(s), data and a back-length, then 0xFF.
import { corruptValue } from './cursor.js';
import { int64, type Packed } from './packed.js';

/** The back-length's size for an element of `n` bytes (encoding + data). */
function backlenSize(n: number): number {
  if (n <= 127) return 1;
  if (n < 16383) return 2;
  if (n < 2097151) return 3;
  if (n < 268435455) return 4;
  return 5;
}

export function* listpackElements(lp: Buffer): Generator<Packed> {
  if (lp.length < 7) throw corruptValue('listpack shorter than its header');
  let p = 6;
  for (;;) {
    if (p >= lp.length) throw corruptValue('listpack without its end byte');
    const b = lp[p]!;
    if (b === 0xff) return;
    let value: Packed;
    let size: number;
    if (b < 0x80) {
      value = b;
      size = 1;
    } else if (b >> 6 === 2) {
      const n = b & 0x3f;
      value = lp.subarray(p + 1, p + 1 + n);
      size = 1 + n;
    } else if (b >> 5 === 6) {
      const v = ((b & 0x1f) << 8) | lp[p + 1]!;
      value = v >= 1 << 12 ? v - (1 << 13) : v;
      size = 2;
    } else if (b >> 4 === 14) {
      const n = ((b & 0x0f) << 8) | lp[p + 1]!;
      value = lp.subarray(p + 2, p + 2 + n);
      size = 2 + n;
    } else {
      switch (b) {
        case 0xf0: {
          const n = lp.readUInt32LE(p + 1);
          value = lp.subarray(p + 5, p + 5 + n);
          size = 5 + n;
          break;
        }
        case 0xf1:
          value = lp.readInt16LE(p + 1);
          size = 3;
          break;
        case 0xf2:
          value = lp.readIntLE(p + 1, 3);
          size = 4;
          break;
        case 0xf3:
          value = lp.readInt32LE(p + 1);
          size = 5;
          break;
        case 0xf4:
          value = int64(lp.readUInt32LE(p + 1), lp.readUInt32LE(p + 5));
          size = 9;
          break;
        default:
          throw corruptValue(`unknown listpack encoding 0x${b.toString(16)}`);
      }
    }
    p += size + backlenSize(size);
    if (p > lp.length) throw corruptValue('listpack element past its end');
    yield value;
  }
}
