// CRC-64/Jones as Redis computes it for DUMP payloads and RDB files: reflected, polynomial
// 0xad93d23594c935a9 (0x95ac9329ac4bc9b5 bit-reversed), init 0, no final xor. Check value for
// "123456789" is 0xe9c6d914c4b8d9ca. Two 32-bit halves keep it fast without BigInt in the loop.

const REFLECTED_POLY_HI = 0x95ac9329;
const REFLECTED_POLY_LO = 0xac4bc9b5;

const TABLE_HI = new Uint32Array(256);
const TABLE_LO = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let hi = 0;
  let lo = i;
  for (let bit = 0; bit < 8; bit++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi = hi >>> 1;
    if (carry) {
      hi = (hi ^ REFLECTED_POLY_HI) >>> 0;
      lo = (lo ^ REFLECTED_POLY_LO) >>> 0;
    }
  }
  TABLE_HI[i] = hi;
  TABLE_LO[i] = lo;
}

/** CRC-64/Jones of the bytes, continuing from `crc` (0 to start). */
export function crc64(data: Uint8Array, crc = 0n): bigint {
  let hi = Number((crc >> 32n) & 0xffffffffn);
  let lo = Number(crc & 0xffffffffn);
  for (let i = 0; i < data.length; i++) {
    const idx = (lo ^ data[i]!) & 0xff;
    const shiftedLo = ((lo >>> 8) | ((hi & 0xff) << 24)) >>> 0;
    const shiftedHi = hi >>> 8;
    hi = (TABLE_HI[idx]! ^ shiftedHi) >>> 0;
    lo = (TABLE_LO[idx]! ^ shiftedLo) >>> 0;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}
