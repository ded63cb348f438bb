// CRC-64/Jones (src/engine/rdb/crc64.ts) against Redis's check value and against the byte-at-a-time
// implementation it replaced (kept here only, as the reference), over every length of the fast
// paths' edges, unaligned starts and chunked continuation.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Crc64, crc64 } from '../../../../src/engine/rdb/crc64.js';

const REF_HI = new Uint32Array(256);
const REF_LO = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let hi = 0;
  let lo = i;
  for (let bit = 0; bit < 8; bit++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi = hi >>> 1;
    if (carry) {
      hi = (hi ^ 0x95ac9329) >>> 0;
      lo = (lo ^ 0xac4bc9b5) >>> 0;
    }
  }
  REF_HI[i] = hi;
  REF_LO[i] = lo;
}

/** The old implementation, one byte per step. */
function reference(data: Uint8Array, crc = 0n): bigint {
  let hi = Number((crc >> 32n) & 0xffffffffn);
  let lo = Number(crc & 0xffffffffn);
  for (let i = 0; i < data.length; i++) {
    const idx = (lo ^ data[i]!) & 0xff;
    const shiftedLo = ((lo >>> 8) | ((hi & 0xff) << 24)) >>> 0;
    hi = (REF_HI[idx]! ^ (hi >>> 8)) >>> 0;
    lo = (REF_LO[idx]! ^ shiftedLo) >>> 0;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}

test('check value of Redis crc64 test: crc64(0, "123456789") == 0xe9c6d914c4b8d9ca', () => {
  assert.equal(crc64(Buffer.from('123456789')), 0xe9c6d914c4b8d9can);
  assert.equal(reference(Buffer.from('123456789')), 0xe9c6d914c4b8d9can);
  assert.equal(crc64(Buffer.alloc(0)), 0n);
});

test('matches the reference on random buffers of many lengths and unaligned starts', () => {
  const lengths = [...Array.from({ length: 300 }, (_, i) => i), 1023, 1024, 1025, 1037, 4099, 65536, 70001];
  const big = randomBytes(70_010);
  for (const length of lengths) {
    for (const start of [0, 1, 2, 3, 5]) {
      const data = big.subarray(start, start + length);
      assert.equal(crc64(data), reference(data), `length ${length} at offset ${start}`);
    }
  }
});

test('a running Crc64 over random chunks equals one pass; writeLE/equalsLE round-trip', () => {
  const data = randomBytes(200_000);
  const state = new Crc64();
  let at = 0;
  while (at < data.length) {
    const n = Math.min(data.length - at, [1, 7, 16, 100, 1024, 5000, 33_333][at % 7]!);
    state.update(data, at, at + n);
    at += n;
  }
  const whole = reference(data);
  assert.equal(state.value, whole);
  assert.equal(crc64(data.subarray(123_457), crc64(data.subarray(0, 123_457))), whole);
  const out = Buffer.alloc(8);
  state.writeLE(out, 0);
  assert.equal(out.readBigUInt64LE(0), whole);
  assert.ok(state.equalsLE(out, 0));
  out[3] = out[3]! ^ 1;
  assert.ok(!state.equalsLE(out, 0));
});
