// An element of a listpack, ziplist or intset: a string, or an integer the encoding stored as one
// (a Number where it is exact, a BigInt past 2^53).
export type Packed = Buffer | number | bigint;

/** The element as the bytes a command sends: integers as their decimal text, as Redis shows them. */
export function packedBytes(v: Packed): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(String(v));
}

/** The element as an integer (stream counters, flags and id deltas are stored as integers). */
export function packedInt(v: Packed): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  const text = v.toString('latin1');
  if (!/^-?\d+$/.test(text)) throw new TypeError(`not an integer: ${text.slice(0, 40)}`);
  return BigInt(text);
}

export function int64(lo: number, hi: number): number | bigint {
  const big = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
  const signed = BigInt.asIntN(64, big);
  return signed >= BigInt(Number.MIN_SAFE_INTEGER) && signed <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(signed)
    : signed;
}
