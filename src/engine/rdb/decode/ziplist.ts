// Ziplist elements (redis/redis ziplist.c, RDB before 7.0): a 10-byte header (bytes, tail offset,
// count), then each element as prevlen, encoding and data, then 0xFF.
import { corruptValue } from './cursor.js';
import { int64, type Packed } from './packed.js';

export function* ziplistElements(zl: Buffer): Generator<Packed> {
  if (zl.length < 11) throw corruptValue('ziplist shorter than its header');
  let p = 10;
  for (;;) {
    if (p >= zl.length) throw corruptValue('ziplist without its end byte');
    if (zl[p] === 0xff) return;
    p += zl[p]! < 254 ? 1 : 5;
    const b = zl[p]!;
    let value: Packed;
    switch (b >> 6) {
      case 0: {
        const n = b & 0x3f;
        value = zl.subarray(p + 1, p + 1 + n);
        p += 1 + n;
        break;
      }
      case 1: {
        const n = ((b & 0x3f) << 8) | zl[p + 1]!;
        value = zl.subarray(p + 2, p + 2 + n);
        p += 2 + n;
        break;
      }
      case 2: {
        const n = zl.readUInt32BE(p + 1);
        value = zl.subarray(p + 5, p + 5 + n);
        p += 5 + n;
        break;
      }
      default:
        if (b === 0xc0) {
          value = zl.readInt16LE(p + 1);
          p += 3;
        } else if (b === 0xd0) {
          value = zl.readInt32LE(p + 1);
          p += 5;
        } else if (b === 0xe0) {
          value = int64(zl.readUInt32LE(p + 1), zl.readUInt32LE(p + 5));
          p += 9;
        } else if (b === 0xf0) {
          value = zl.readIntLE(p + 1, 3);
          p += 4;
        } else if (b === 0xfe) {
          value = zl.readInt8(p + 1);
          p += 2;
        } else if (b >= 0xf1 && b <= 0xfd) {
          value = (b & 0x0f) - 1;
          p += 1;
        } else throw corruptValue(`unknown ziplist encoding 0x${b.toString(16)}`);
    }
    if (p > zl.length) throw corruptValue('ziplist element past its end');
    yield value;
  }
}
