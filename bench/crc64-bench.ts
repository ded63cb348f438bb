// bench:crc64: MB/s of the CRC-64 (src/engine/rdb/crc64.ts) by buffer size, against a byte-at-a-time
// table (the implementation before slicing) in the same run, printed as ratios. The sizes are an
// RDB's: small DUMP payloads (their trailer's CRC) up to the read chunks of the file checksum.
//   npm run bench:crc64
import { randomBytes } from 'node:crypto';
import { Crc64 } from '../src/engine/rdb/crc64.js';

const POLY_HI = 0x95ac9329;
const POLY_LO = 0xac4bc9b5;
const T_HI = new Uint32Array(256);
const T_LO = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let hi = 0;
  let lo = i;
  for (let bit = 0; bit < 8; bit++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi = hi >>> 1;
    if (carry) {
      hi = (hi ^ POLY_HI) >>> 0;
      lo = (lo ^ POLY_LO) >>> 0;
    }
  }
  T_HI[i] = hi;
  T_LO[i] = lo;
}

function bytewise(data: Uint8Array): number {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < data.length; i++) {
    const idx = (lo ^ data[i]!) & 0xff;
    const shiftedLo = ((lo >>> 8) | ((hi & 0xff) << 24)) >>> 0;
    hi = (T_HI[idx]! ^ (hi >>> 8)) >>> 0;
    lo = (T_LO[idx]! ^ shiftedLo) >>> 0;
  }
  return hi ^ lo;
}

const state = new Crc64();
function current(data: Uint8Array): number {
  state.hi = 0;
  state.lo = 0;
  state.update(data);
  return state.hi ^ state.lo;
}

let sink = 0;

/**
 * MB per CPU second (process.cpuUsage: on a shared machine wall time says little) over about `ms`
 * of calls on the buffers.
 */
function rate(fn: (d: Uint8Array) => number, bufs: Buffer[], ms: number): number {
  let bytes = 0;
  const cpu = process.cpuUsage();
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (const b of bufs) {
      sink ^= fn(b);
      bytes += b.length;
    }
  }
  const used = process.cpuUsage(cpu);
  return bytes / 1e6 / ((used.user + used.system) / 1e6);
}

console.log('size      bytewise MB/s   Crc64 MB/s   ratio   (MB per CPU second, best of 5 rounds)');
for (const size of [16, 64, 256, 1024, 16 * 1024, 1024 * 1024]) {
  const count = Math.min(4096, Math.max(1, Math.floor((4 * 1024 * 1024) / size)));
  const bufs = Array.from({ length: count }, () => randomBytes(size));
  let a = 0;
  let b = 0;
  for (let round = 0; round < 5; round++) {
    a = Math.max(a, rate(bytewise, bufs, 150));
    b = Math.max(b, rate(current, bufs, 150));
  }
  console.log(
    `${String(size).padEnd(9)} ${a.toFixed(0).padStart(13)} ${b.toFixed(0).padStart(12)} ${(b / a).toFixed(2).padStart(7)}`,
  );
}
if (sink === 0.5) console.log(sink); // keeps the calls from being optimised away
