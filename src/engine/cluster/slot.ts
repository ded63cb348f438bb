// The hash slot of a key, as Redis Cluster computes it (cluster.c keyHashSlot): CRC16 (XMODEM:
// polynomial 0x1021, initial value 0) of the key's bytes modulo 16384; when the key holds a hash
// tag, a non-empty `{...}` (the first `{` and the first `}` after it), only the tag is hashed.
export const SLOT_COUNT = 16384;

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    t[i] = crc;
  }
  return t;
})();

export function crc16(data: Uint8Array, start = 0, end = data.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ data[i]!) & 0xff]!;
  return crc;
}

/** The slot of a key (bytes, or text as UTF-8). */
export function keySlot(key: Uint8Array | string): number {
  const bytes = typeof key === 'string' ? Buffer.from(key) : key;
  const open = bytes.indexOf(0x7b); // '{'
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1); // '}'
    // "{}" or no closing brace: the whole key is hashed.
    if (close > open + 1) return crc16(bytes, open + 1, close) & (SLOT_COUNT - 1);
  }
  return crc16(bytes) & (SLOT_COUNT - 1);
}
