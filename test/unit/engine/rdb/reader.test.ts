import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Crc64, crc64 } from '../../../../src/engine/rdb/crc64.js';
import { RdbError } from '../../../../src/engine/rdb/errors.js';
import { moduleTypeName } from '../../../../src/engine/rdb/format.js';
import { type RdbEntry, type RdbEvent, RdbReader } from '../../../../src/engine/rdb/reader.js';
import { expireMs, len, len64, moduleId, rdbFile, str } from './craft.js';

/** Every event of `bytes` fed in chunks of `chunk` bytes. */
async function events(bytes: Buffer, chunk = bytes.length, maxValueBytes?: number): Promise<RdbEvent[]> {
  const out: RdbEvent[] = [];
  const reader = new RdbReader(
    (e) => {
      out.push(e);
    },
    maxValueBytes === undefined ? {} : { maxValueBytes },
  );
  for (let i = 0; i < bytes.length; i += chunk) await reader.write(bytes.subarray(i, i + chunk));
  reader.end();
  return out;
}

const entries = (evs: RdbEvent[]): RdbEntry[] => evs.flatMap((e) => (e.kind === 'entry' ? [e.entry] : []));

async function rejection(bytes: Buffer, chunk = bytes.length, maxValueBytes?: number): Promise<RdbError> {
  try {
    await events(bytes, chunk, maxValueBytes);
  } catch (err) {
    assert.ok(err instanceof RdbError, String(err));
    return err;
  }
  assert.fail('the reader accepted it');
}

/** The value part of a payload (without the type byte and the 10-byte trailer). */
const valueBytesOf = (e: RdbEntry) => e.payload.subarray(1, e.payload.length - 10);

describe('CRC-64/Jones', () => {
  test("Redis's check value: crc64(0, '123456789') == 0xe9c6d914c4b8d9ca", () => {
    assert.equal(crc64(Buffer.from('123456789')), 0xe9c6d914c4b8d9can);
    assert.equal(new Crc64().update(Buffer.from('123456789')).value, 0xe9c6d914c4b8d9can);
  });

  test('a running CRC over pieces equals the CRC of the whole', () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 31) & 0xff));
    const running = new Crc64().update(data, 0, 7).update(data, 7, 500).update(data, 500);
    assert.equal(running.value, crc64(data));
    const out = Buffer.alloc(8);
    running.writeLE(out, 0);
    assert.equal(out.readBigUInt64LE(0), crc64(data));
    assert.ok(running.equalsLE(out, 0));
  });
});

describe('lengths and strings on crafted bytes', () => {
  test('6-bit, 14-bit, 32-bit and 64-bit lengths of keys and values', async () => {
    const big = Buffer.alloc(70_000, 0x61);
    const file = rdbFile(
      10,
      [0x00],
      str('k6'),
      str('v'.repeat(63)),
      [0x00],
      str('k14'),
      str('w'.repeat(300)),
      [0x00],
      str('k32'),
      str(big),
      [0x00],
      Buffer.concat([len64(3n), Buffer.from('k64')]),
      Buffer.concat([len64(2n), Buffer.from('ok')]),
    );
    for (const chunk of [file.length, 1, 7, 4096]) {
      const got = entries(await events(file, chunk));
      assert.deepEqual(
        got.map((e) => e.key.toString()),
        ['k6', 'k14', 'k32', 'k64'],
      );
      assert.deepEqual(valueBytesOf(got[0]!), str('v'.repeat(63)));
      assert.deepEqual(valueBytesOf(got[1]!), str('w'.repeat(300)));
      assert.deepEqual(valueBytesOf(got[2]!), str(big));
      assert.deepEqual(valueBytesOf(got[3]!), Buffer.concat([len64(2n), Buffer.from('ok')]));
    }
  });

  test('integer-encoded (8, 16, 32 bits) and LZF-compressed keys decode; payloads keep the bytes as stored', async () => {
    const lzfKey = Buffer.from([0xc3, ...len(5), ...len(10), 0x00, 0x61, 0xe0, 0x00, 0x00]);
    const file = rdbFile(
      9,
      [0x00, 0xc0, 0xf9],
      str('a'),
      [0x00, 0xc1, 0x39, 0x30],
      str('b'),
      [0x00, 0xc2, 0x87, 0xd6, 0x12, 0x00],
      str('c'),
      [0x00],
      lzfKey,
      lzfKey,
    );
    const got = entries(await events(file, 3));
    assert.deepEqual(
      got.map((e) => e.key.toString()),
      ['-7', '12345', '1234567', 'a'.repeat(10)],
    );
    assert.deepEqual(valueBytesOf(got[3]!), lzfKey);
  });

  test('a corrupt LZF key and an unknown string encoding are corrupt, with the byte offset', async () => {
    const badLzf = rdbFile(10, [0x00, 0xc3, ...len(2), ...len(10), 0x05, 0x61], str('v'));
    const err = await rejection(badLzf);
    assert.equal(err.kind, 'corrupt');
    assert.match(err.message, /LZF/);
    const badEnc = rdbFile(10, [0x00, 0xc4], str('v'));
    assert.equal((await rejection(badEnc)).kind, 'corrupt');
  });
});

describe('the RDB layout', () => {
  test('header, aux, functions, databases, resize hints, expiries, LRU/LFU, slot info, end', async () => {
    const file = rdbFile(
      12,
      [0xfa],
      str('redis-ver'),
      str('8.0.2'),
      [0xfa],
      str('redis-bits'),
      [0xc0, 64],
      [0xf5],
      str('#!lua name=lib\n'),
      [0xfe, 2, 0xfb, 2, 1],
      [0xf4, 5, 1, 0],
      expireMs(1_900_000_000_123),
      [0xf8, ...len(300)],
      [0x00],
      str('exp'),
      str('1'),
      [0xfd, 0x00, 0xf1, 0x53, 0x65, 0xf9, 7],
      [0x00],
      str('old-exp'),
      str('2'),
      [0xfe, ...len(100)],
      [0x00],
      str('plain'),
      str('3'),
    );
    const evs = await events(file, 5);
    assert.deepEqual(evs[0], { kind: 'header', version: 12 });
    assert.deepEqual(evs[1], { kind: 'aux', name: 'redis-ver', value: Buffer.from('8.0.2') });
    assert.deepEqual(evs[2], { kind: 'aux', name: 'redis-bits', value: Buffer.from('64') });
    assert.deepEqual(evs[3], { kind: 'function', code: Buffer.from('#!lua name=lib\n') });
    assert.deepEqual(evs[4], { kind: 'db', db: 2 });
    assert.deepEqual(evs[5], { kind: 'resize', db: 2, keys: 2, expires: 1 });
    const [a, b, c] = entries(evs);
    assert.deepEqual([a!.db, a!.expireAtMs, a!.idleSeconds, a!.freq], [2, 1_900_000_000_123, 300, undefined]);
    assert.deepEqual([b!.db, b!.expireAtMs, b!.freq, b!.idleSeconds], [2, 1_700_000_000_000, 7, undefined]);
    assert.deepEqual([c!.db, c!.expireAtMs], [100, null]);
    assert.deepEqual(evs.at(-1), { kind: 'end', checksum: 'ok' });
  });

  test('a payload is type byte + value + RDB version + CRC-64, as DUMP writes it', async () => {
    // Captured from redis-server 7.0.15: `SET foo bar` + `DUMP foo`.
    const dump = Buffer.from('0003626172' + '0a00' + 'e6be4960ee66fd17', 'hex');
    const [entry] = entries(await events(rdbFile(10, [0x00], str('foo'), str('bar'))));
    assert.deepEqual(entry!.payload, dump);
  });

  test('collections, quicklists, zsets with both score forms, field-TTL hashes and streams find their end', async () => {
    const streamV3 = Buffer.concat([
      len(1),
      str(Buffer.alloc(16, 1)),
      str(Buffer.from('listpack-bytes')),
      len(3),
      len(5),
      len(0),
      len(1),
      len(0),
      len(0),
      len(0),
      len(3),
      len(1), // one group
      str('g'),
      len(5),
      len(0),
      len64(0xffffffffffffffffn), // entries-read unknown
      len(1), // PEL
      Buffer.alloc(16, 2),
      Buffer.alloc(8, 3),
      len(1),
      len(1), // one consumer
      str('alice'),
      Buffer.alloc(8, 4),
      Buffer.alloc(8, 5),
      len(1),
      Buffer.alloc(16, 2),
    ]);
    const values: [number, Buffer][] = [
      [2, Buffer.concat([len(2), str('a'), str('b')])],
      [
        3,
        Buffer.concat([
          len(3),
          str('x'),
          Buffer.from([3]),
          Buffer.from('1.5'),
          str('y'),
          Buffer.from([254]),
          str('z'),
          Buffer.from([255]),
        ]),
      ],
      [4, Buffer.concat([len(1), str('f'), str('v')])],
      [5, Buffer.concat([len(1), str('m'), Buffer.alloc(8)])],
      [14, Buffer.concat([len(2), str('zl1'), str('zl2')])],
      [18, Buffer.concat([len(2), len(2), str('lp'), len(1), str('plain')])],
      [22, Buffer.concat([len(1), len(0), str('f'), str('v')])],
      [23, str('lp-ex-pre-ga')],
      [
        24,
        Buffer.concat([Buffer.alloc(8, 9), len(2), len(0), str('f'), str('v'), len(7), str('g'), str('w')]),
      ],
      [25, Buffer.concat([Buffer.alloc(8, 9), str('lp-ex')])],
      [21, streamV3],
      [11, str(Buffer.from([2, 0, 0, 0, 1, 0, 0, 0, 7, 0]))],
    ];
    const file = rdbFile(12, ...values.flatMap(([type, v], i) => [[type], str(`k${i}`), v]));
    for (const chunk of [file.length, 1, 13]) {
      const got = entries(await events(file, chunk));
      assert.equal(got.length, values.length);
      got.forEach((e, i) => {
        assert.equal(e.type, values[i]![0]);
        assert.deepEqual(valueBytesOf(e), values[i]![1], `value of type ${e.type}`);
      });
    }
  });

  test('empty collections are skipped and counted, as Redis loads them; an empty stream is kept', async () => {
    const file = rdbFile(
      12,
      [2],
      str('empty-set'),
      len(0),
      [24],
      str('empty-hfe'),
      Buffer.alloc(8),
      len(0),
      [0],
      str('s'),
      str(''),
      [21],
      str('empty-stream'),
      Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    );
    const got: string[] = [];
    const reader = new RdbReader((e) => {
      if (e.kind === 'entry') got.push(e.entry.key.toString());
    });
    await reader.write(file);
    reader.end();
    assert.deepEqual(got, ['s', 'empty-stream']);
    assert.equal(reader.emptyKeysSkipped, 2);
    assert.equal(reader.keysRead, 2);
  });

  test('bytes after the checksum are handed back (a replication stream goes on there)', async () => {
    const file = rdbFile(10, [0x00], str('k'), str('v'));
    const reader = new RdbReader(() => undefined);
    await reader.write(Buffer.concat([file, Buffer.from('*1\r\n$4\r\nPING')]));
    await reader.write(Buffer.from('\r\n'));
    assert.ok(reader.done);
    assert.equal(reader.trailing.toString(), '*1\r\n$4\r\nPING\r\n');
    assert.equal(reader.offset, file.length);
  });

  test('write() waits for the handler: the consumer slows the producer', async () => {
    const file = rdbFile(10, [0x00], str('k1'), str('v'), [0x00], str('k2'), str('v'));
    let release!: () => void;
    const seen: string[] = [];
    const reader = new RdbReader((e) => {
      if (e.kind !== 'entry') return;
      seen.push(e.entry.key.toString());
      if (seen.length === 1) return new Promise<void>((r) => (release = r));
    });
    let resolved = false;
    const writing = reader.write(file).then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(seen, ['k1']);
    assert.equal(resolved, false);
    await assert.rejects(reader.write(Buffer.from([0])), /before the previous write resolved/);
    release();
    await writing;
    assert.deepEqual(seen, ['k1', 'k2']);
  });
});

describe('what the reader refuses', () => {
  test('not an RDB: kind not-rdb, at once or at the end of a short stream', async () => {
    assert.equal((await rejection(Buffer.from('hello world, no rdb here'))).kind, 'not-rdb');
    assert.equal((await rejection(Buffer.from('RED'))).kind, 'not-rdb');
    assert.equal((await rejection(Buffer.from('REDISabcd'))).kind, 'not-rdb');
  });

  test('an RDB version it does not know is unsupported', async () => {
    const err = await rejection(rdbFile(80, [0x00], str('k'), str('v')));
    assert.equal(err.kind, 'unsupported');
    assert.match(err.message, /RDB version 80/);
  });

  test('a truncated stream says how far it got', async () => {
    const file = rdbFile(10, [0x00], str('k1'), str('v1'), [0x00], str('k2'), str('v'.repeat(100)));
    const cut = file.subarray(0, file.length - 60);
    const err = await rejection(cut, 8);
    assert.equal(err.kind, 'truncated');
    assert.match(err.message, /after 1 keys/);
    assert.equal(err.offset, 9 + 1 + 3 + 3);
    assert.equal((await rejection(file.subarray(0, file.length - 3))).kind, 'truncated');
  });

  test('a flipped byte in a value fails the checksum', async () => {
    const file = rdbFile(10, [0x00], str('k1'), str('value'));
    file[file.indexOf('value') + 2] ^= 0x01;
    const err = await rejection(file);
    assert.equal(err.kind, 'checksum');
    assert.equal(err.offset, file.length - 8);
  });

  test('a checksum of 0 (rdbchecksum no) is not checked', async () => {
    const file = rdbFile(10, [0x00], str('k1'), str('value'));
    file.fill(0, file.length - 8);
    assert.deepEqual((await events(file)).at(-1), { kind: 'end', checksum: 'disabled' });
  });

  test("module aux data and module values are refused with the module's name", async () => {
    const id = moduleId('ReJSON-RL', 3);
    assert.deepEqual(moduleTypeName(id), { name: 'ReJSON-RL', encver: 3 });
    const aux = rdbFile(10, [0xf7], len64(id), len(2), len(2), [0x00]);
    const err = await rejection(aux);
    assert.equal(err.kind, 'module');
    assert.match(err.message, /module 'ReJSON-RL'/);
    const value = rdbFile(10, [0x07], str('doc:1'), len64(moduleId('MBbloom--', 1)), [0x00]);
    const err2 = await rejection(value);
    assert.equal(err2.kind, 'module');
    assert.match(err2.message, /"doc:1".*module 'MBbloom--'/);
  });

  test('an unknown value type is corrupt', async () => {
    const err = await rejection(rdbFile(10, [0x08], str('k'), str('v')));
    assert.equal(err.kind, 'corrupt');
    assert.match(err.message, /value type 8 at byte 9/);
  });

  test('a value over the cap stops as soon as its length is read, naming the key', async () => {
    const file = rdbFile(10, [0x00], str('small'), str('ok'), [0x00], str('huge'), str('x'.repeat(5000)));
    const err = await rejection(file, 1024, 1000);
    assert.equal(err.kind, 'too-big');
    assert.match(err.message, /"huge".*1000-byte cap/);
    const bigKey = rdbFile(10, [0x00], str('k'.repeat(2000)), str('v'));
    assert.equal((await rejection(bigKey, 100, 1000)).kind, 'too-big');
  });
});
