// The decoder on hand-made values of the encodings no server in the suite writes any more
// (ziplists, quicklist 1, linked lists, zipmaps, string scores, the 7.4 RC field-TTL hashes,
// stream layout 1), built from the layouts in redis/redis ziplist.c, listpack.c, zipmap.c, rdb.c
// and t_stream.c. The encodings real servers write are tested on their DUMPs
// (test/integration/rdb-decode.test.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type DecodedPart, decodeValue } from '../../../../src/engine/rdb/decode/index.js';
import { RdbError } from '../../../../src/engine/rdb/errors.js';
import type { RdbEntry } from '../../../../src/engine/rdb/reader.js';
import { len, len64, str } from './craft.js';

function entry(type: number, ...parts: (Buffer | number[])[]): RdbEntry {
  const value = Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
  const payload = Buffer.concat([Buffer.from([type]), value, Buffer.from([9, 0]), Buffer.alloc(8)]);
  return { db: 0, key: Buffer.from('k'), expireAtMs: null, type, payload, offset: 0 };
}

const text = (parts: DecodedPart[]) =>
  parts.map((p) => {
    if (p.kind !== 'chunk')
      return p.kind === 'field-ttls' ? { ttls: p.fields.map(String), at: p.expiresAt } : p;
    const c = p.chunk;
    if (c.type === 'string') return c.value.toString();
    if (c.type === 'list') return c.items.map(String);
    if (c.type === 'set') return c.members.map(String);
    if (c.type === 'stream') return c.entries.map((e) => `${e.id}:${e.fields.map(String).join(',')}`);
    return c.entries.map(String);
  });

const i16 = (v: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16LE(v);
  return b;
};
const i32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
};
const i64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(v);
  return b;
};
const ms = (v: number) => i64(BigInt(v));

/** A ziplist of already-encoded entries (encoding + data); prevlen is not read, only its size. */
function ziplist(...entries: Buffer[]): Buffer {
  const body = Buffer.concat(
    entries.map((e, i) => Buffer.concat([i === 1 ? Buffer.from([0xfe, 0, 0, 0, 0]) : Buffer.from([0]), e])),
  );
  const head = Buffer.alloc(10);
  head.writeUInt32LE(10 + body.length + 1, 0);
  head.writeUInt16LE(entries.length, 8);
  return Buffer.concat([head, body, Buffer.from([0xff])]);
}
const zs = (s: string) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]);

/** A listpack of already-encoded entries; the back-length is computed as listpack.c does. */
function listpack(...entries: Buffer[]): Buffer {
  const body = Buffer.concat(
    entries.map((e) =>
      Buffer.concat([e, Buffer.from(e.length <= 127 ? [e.length] : [e.length >> 7, (e.length & 127) | 128])]),
    ),
  );
  const head = Buffer.alloc(6);
  head.writeUInt32LE(6 + body.length + 1, 0);
  head.writeUInt16LE(entries.length, 4);
  return Buffer.concat([head, body, Buffer.from([0xff])]);
}
const ls = (s: string) => Buffer.concat([Buffer.from([0x80 | s.length]), Buffer.from(s)]);
const lint = (v: number) =>
  v >= 0 && v < 128 ? Buffer.from([v]) : Buffer.from([0xc0 | ((v >> 8) & 0x1f), v & 0xff]);
const l64 = (v: bigint) => Buffer.concat([Buffer.from([0xf4]), i64(v)]);

describe('old list encodings', () => {
  const zl = ziplist(
    zs('a'),
    Buffer.from([0xfe, 0xfb]), // int8 -5
    Buffer.from([0xf8]), // immediate 7
    Buffer.concat([Buffer.from([0xc0]), i16(1000)]),
    Buffer.from([0xf0, 0x60, 0x79, 0xfe]), // int24 -100000
    Buffer.concat([Buffer.from([0xd0]), i32(2_000_000_000)]),
    Buffer.concat([Buffer.from([0xe0]), i64(-9_000_000_000_000_000_000n)]),
    Buffer.concat([Buffer.from([0x40 | 0, 100]), Buffer.alloc(100, 0x62)]), // 14-bit length
    Buffer.concat([Buffer.from([0x80, 0, 0, 0, 3]), Buffer.from('xyz')]), // 32-bit length
  );
  const want = [
    'a',
    '-5',
    '7',
    '1000',
    '-100000',
    '2000000000',
    '-9000000000000000000',
    'b'.repeat(100),
    'xyz',
  ];

  test('ziplist (10): every string and integer encoding', () => {
    assert.deepEqual(text([...decodeValue(entry(10, str(zl)))]), [want]);
  });
  test('quicklist 1 (14): ziplist nodes in order', () => {
    const second = ziplist(zs('last'));
    assert.deepEqual(text([...decodeValue(entry(14, len(2), str(zl), str(second)))]), [[...want, 'last']]);
  });
  test('linked list (1): plain and int-encoded strings', () => {
    const parts = [...decodeValue(entry(1, len(3), str('x'), [0xc0, 0xf9], [0xc1, ...i16(-300)]))];
    assert.deepEqual(text(parts), [['x', '-7', '-300']]);
  });
});

describe('old hash and sorted set encodings', () => {
  test('zipmap (9): short and 254-prefixed lengths, free bytes skipped', () => {
    const long = Buffer.alloc(300, 0x71);
    const zm = Buffer.concat([
      Buffer.from([2]),
      Buffer.from([1]),
      Buffer.from('f'),
      Buffer.from([2, 1]),
      Buffer.from('v1'),
      Buffer.from([0]),
      Buffer.from([254, 44, 1, 0, 0]),
      long,
      Buffer.from([0, 0]),
      Buffer.from([0xff]),
    ]);
    assert.deepEqual(text([...decodeValue(entry(9, str(zm)))]), [['f', 'v1', 'q'.repeat(300), '']]);
  });
  test('hash ziplist (13) and zset ziplist (12)', () => {
    const h = ziplist(zs('f'), zs('v'), zs('n'), Buffer.from([0xf3]));
    assert.deepEqual(text([...decodeValue(entry(13, str(h)))]), [['f', 'v', 'n', '2']]);
    const z = ziplist(zs('m'), zs('1.5'), zs('n'), Buffer.from([0xfe, 0xfd]));
    assert.deepEqual(text([...decodeValue(entry(12, str(z)))]), [['m', '1.5', 'n', '-3']]);
  });
  test('zset with string scores (3): text, nan, +inf and -inf', () => {
    const e = entry(3, len(3), str('a'), [3], Buffer.from('0.5'), str('b'), [254], str('c'), [255]);
    assert.deepEqual(text([...decodeValue(e)]), [['a', '0.5', 'b', 'inf', 'c', '-inf']]);
  });
  test('zset 2 (5): binary doubles print back exactly', () => {
    const d = (x: number) => {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(x);
      return b;
    };
    const e = entry(5, len(3), str('a'), d(0.1), str('b'), d(-0), str('c'), d(1 / 3));
    const [scores] = text([...decodeValue(e)]) as string[][];
    assert.deepEqual(scores, ['a', '0.1', 'b', '-0', 'c', String(1 / 3)]);
    assert.equal(Number(scores![5]), 1 / 3);
  });
});

describe('hashes with field TTLs, 7.4 release-candidate layouts', () => {
  test('metadata pre-GA (22): absolute TTLs, 0 for none', () => {
    const e = entry(22, len(2), len(0), str('a'), str('1'), len64(1_733_000_000_000n), str('b'), str('2'));
    assert.deepEqual(text([...decodeValue(e)]), [
      ['a', '1', 'b', '2'],
      { ttls: ['b'], at: [1_733_000_000_000] },
    ]);
  });
  test('metadata (24): TTLs relative to the smallest, +1', () => {
    const e = entry(
      24,
      ms(1_733_000_000_000),
      len(2),
      len(1),
      str('a'),
      str('1'),
      len(501),
      str('b'),
      str('2'),
    );
    assert.deepEqual(text([...decodeValue(e)]), [
      ['a', '1', 'b', '2'],
      { ttls: ['a', 'b'], at: [1_733_000_000_000, 1_733_000_000_500] },
    ]);
  });
  test('listpack-ex pre-GA (23) and listpack-ex (25): field, value, absolute TTL (0 for none)', () => {
    const lp = listpack(ls('a'), ls('1'), lint(0), ls('b'), lint(-2), l64(1_733_000_000_000n));
    const want = [['a', '1', 'b', '-2'], { ttls: ['b'], at: [1_733_000_000_000] }];
    assert.deepEqual(text([...decodeValue(entry(23, str(lp)))]), want);
    assert.deepEqual(text([...decodeValue(entry(25, ms(1_733_000_000_000), str(lp)))]), want);
  });
});

test('stream layout 1 (15): master fields, SAMEFIELDS, deleted entries, a group with its PEL and consumer', () => {
  const master = Buffer.alloc(16);
  master.writeBigUInt64BE(1000n, 0);
  master.writeBigUInt64BE(1n, 8);
  const lp = listpack(
    lint(2),
    lint(1),
    lint(1),
    ls('f'),
    lint(0), // master entry: 2 live, 1 deleted, fields [f]
    lint(2),
    lint(0),
    lint(0),
    ls('v1'),
    lint(4), // 1000-1 f=v1 (same fields)
    lint(3),
    lint(1),
    lint(0),
    ls('v2'),
    lint(4), // 1001-1, deleted
    lint(0),
    lint(2),
    lint(5),
    lint(2),
    ls('a'),
    ls('1'),
    ls('b'),
    ls('2'),
    lint(8), // 1002-6 a=1 b=2
  );
  const nack = Buffer.alloc(16);
  nack.writeBigUInt64BE(1002n, 0);
  nack.writeBigUInt64BE(6n, 8);
  const e = entry(
    15,
    len(1),
    str(master),
    str(lp),
    len(2),
    len(1002),
    len(6), // length, last id
    len(1),
    str('g'),
    len(1002),
    len(6), // group g at 1002-6
    len(1),
    nack,
    ms(1_700_000_000_000),
    len(3), // PEL
    len(1),
    str('c'),
    ms(1_700_000_000_001),
    len(1),
    nack, // consumer c owns it
  );
  const parts = [...decodeValue(e)];
  assert.deepEqual(text(parts.slice(0, 1)), [['1000-1:f,v1', '1002-6:a,1,b,2']]);
  const meta = parts[1]!;
  assert.ok(meta.kind === 'stream-meta');
  assert.equal(meta.meta.lastId.toString(), '1002-6');
  assert.equal(meta.meta.entriesAdded, null);
  const group = parts[2]!;
  assert.ok(group.kind === 'stream-group');
  assert.deepEqual(
    [group.group.name.toString(), group.group.lastDeliveredId.toString(), group.group.entriesRead],
    ['g', '1002-6', null],
  );
  assert.deepEqual(group.group.consumers.map(String), ['c']);
  const pending = parts[3]!;
  assert.ok(pending.kind === 'pending');
  assert.deepEqual(
    pending.entries.map((p) => [p.id.toString(), p.consumer.toString(), p.deliveryTimeMs, p.deliveries]),
    [['1002-6', 'c', 1_700_000_000_000, 3]],
  );
  assert.equal(parts.length, 4);
});

test('bytes left after a value, or a value cut short, are corrupt', () => {
  assert.throws(
    () => [...decodeValue(entry(0, str('v'), [0]))],
    (e) => e instanceof RdbError && e.kind === 'corrupt',
  );
  assert.throws(
    () => [...decodeValue(entry(1, len(2), str('v')))],
    (e) => e instanceof RdbError && /ends early/.test(e.message),
  );
});

test('listpack (20): 12-bit and 32-bit string lengths, 16/24/32/64-bit integers, long back-lengths', () => {
  const s12 = Buffer.alloc(200, 0x61);
  const s32 = Buffer.alloc(5000, 0x62);
  const u32 = Buffer.alloc(4);
  u32.writeUInt32LE(s32.length);
  const lp = listpack(
    Buffer.concat([Buffer.from([0xe0 | (s12.length >> 8), s12.length & 0xff]), s12]),
    Buffer.concat([Buffer.from([0xf0]), u32, s32]),
    Buffer.concat([Buffer.from([0xf1]), i16(-30000)]),
    Buffer.from([0xf2, 0x60, 0x79, 0xfe]), // -100000
    Buffer.concat([Buffer.from([0xf3]), i32(-2_000_000_000)]),
    l64(-9_000_000_000_000_000_000n),
    lint(-4096),
    lint(4095),
  );
  assert.deepEqual(text([...decodeValue(entry(20, str(lp)))]), [
    [
      'a'.repeat(200),
      'b'.repeat(5000),
      '-30000',
      '-100000',
      '-2000000000',
      '-9000000000000000000',
      '-4096',
      '4095',
    ],
  ]);
});
