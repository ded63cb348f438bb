// The reader's memory does not grow with the stream: 256 MB of entries (one of them a 24 MB value)
// go through it while the buffers alive stay a small fraction of that.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Crc64 } from '../../../../src/engine/rdb/crc64.js';
import { RdbReader } from '../../../../src/engine/rdb/reader.js';
import { len, str } from './craft.js';

const CHUNK = 1024 * 1024;

/** An RDB of `total` bytes of 64 KiB string values, made chunk by chunk as it is read. */
function* stream(total: number): Generator<Buffer> {
  const crc = new Crc64();
  const emit = function* (b: Buffer): Generator<Buffer> {
    crc.update(b);
    for (let i = 0; i < b.length; i += CHUNK) yield b.subarray(i, i + CHUNK);
  };
  yield* emit(Buffer.from('REDIS0010'));
  const value = str(Buffer.alloc(64 * 1024, 0x5a));
  let written = 0;
  for (let i = 0; written < total; i++) {
    const big = i === 1000;
    const entry = Buffer.concat([
      Buffer.from([0]),
      str(`key:${i}`),
      big ? Buffer.concat([len(24 * CHUNK), Buffer.alloc(24 * CHUNK, 1)]) : value,
    ]);
    yield* emit(entry);
    written += entry.length;
  }
  yield* emit(Buffer.from([0xff]));
  const tail = Buffer.alloc(8);
  crc.writeLE(tail, 0);
  yield tail;
}

test('memory stays bounded while 256 MB stream through the reader', async () => {
  let peak = 0;
  let keys = 0;
  let biggest = 0;
  const reader = new RdbReader((e) => {
    if (e.kind !== 'entry') return;
    keys++;
    biggest = Math.max(biggest, e.entry.payload.length);
    if (keys % 64 === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers);
  });
  // 1 MiB chunks, as a file read stream hands them out.
  let total = 0;
  for (const chunk of stream(256 * CHUNK)) {
    await reader.write(chunk);
    total += chunk.length;
  }
  reader.end();
  assert.ok(reader.done);
  assert.ok(biggest > 24 * CHUNK);
  assert.ok(total > 256 * CHUNK);
  // The 24 MB value is held twice (its chunks, then its payload); everything else is one chunk.
  assert.ok(
    peak < 128 * CHUNK,
    `peak ${Math.round(peak / CHUNK)} MB of buffers for ${Math.round(total / CHUNK)} MB read`,
  );
});
