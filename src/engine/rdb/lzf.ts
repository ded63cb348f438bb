// liblzf's decompressor: RDB stores strings longer than 20 bytes LZF-compressed when the server
// has `rdbcompression yes` (the default), keys and values alike.

/** LZF decompression (liblzf's lzf_decompress), as RDB uses it for strings longer than 20 bytes. */
export function lzfDecompress(input: Buffer, outputLength: number): Buffer {
  const out = Buffer.allocUnsafe(outputLength);
  let ip = 0;
  let op = 0;
  while (ip < input.length) {
    const ctrl = input[ip++]!;
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (op + run > outputLength || ip + run > input.length) throw new RangeError('bad LZF literal');
      input.copy(out, op, ip, ip + run);
      ip += run;
      op += run;
    } else {
      let len = ctrl >> 5;
      let ref = op - ((ctrl & 0x1f) << 8) - 1;
      if (len === 7) {
        if (ip >= input.length) throw new RangeError('bad LZF back reference');
        len += input[ip++]!;
      }
      if (ip >= input.length) throw new RangeError('bad LZF back reference');
      ref -= input[ip++]!;
      len += 2;
      if (ref < 0 || op + len > outputLength) throw new RangeError('bad LZF back reference');
      // Byte by byte: the reference may overlap the bytes being written.
      for (let i = 0; i < len; i++) out[op++] = out[ref++]!;
    }
  }
  if (op !== outputLength) throw new RangeError('LZF length mismatch');
  return out;
}
