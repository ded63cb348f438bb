import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplyParser } from '../../../../src/engine/resp/parser.js';
import { RespError, type RespReply, SkippedBulk } from '../../../../src/engine/resp/reply.js';

function parseAll(chunks: Buffer[]): RespReply[] {
  const out: RespReply[] = [];
  const parser = new ReplyParser((r) => out.push(r));
  for (const c of chunks) parser.feed(c);
  return out;
}

const WIRE = Buffer.concat([
  Buffer.from('+OK\r\n+QUEUED\r\n-ERR DUMP payload version or checksum are wrong\r\n:-2\r\n:1234567\r\n'),
  Buffer.from('$-1\r\n$0\r\n\r\n$3\r\n\x00\r\n\r\n*-1\r\n*0\r\n'),
  Buffer.from('*2\r\n$1\r\n0\r\n*3\r\n$1\r\na\r\n*2\r\n:1\r\n$-1\r\n-WRONGTYPE nope\r\n'),
]);

const EXPECTED: RespReply[] = [
  'OK',
  'QUEUED',
  new RespError('ERR DUMP payload version or checksum are wrong'),
  -2,
  1234567,
  null,
  Buffer.alloc(0),
  Buffer.from([0, 13, 10]),
  null,
  [],
  [Buffer.from('0'), [Buffer.from('a'), [1, null], new RespError('WRONGTYPE nope')]],
];

test('parses every RESP2 reply kind, nested arrays included', () => {
  assert.deepEqual(parseAll([WIRE]), EXPECTED);
});

test('gives the same replies whatever the chunk boundaries', () => {
  for (let size = 1; size <= 7; size++) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < WIRE.length; i += size) chunks.push(WIRE.subarray(i, i + size));
    assert.deepEqual(parseAll(chunks), EXPECTED, `chunks of ${size}`);
  }
  for (let cut = 1; cut < WIRE.length; cut++) {
    assert.deepEqual(parseAll([WIRE.subarray(0, cut), WIRE.subarray(cut)]), EXPECTED, `cut at ${cut}`);
  }
});

test('error codes are the first word', () => {
  assert.equal(new RespError('OOM command not allowed').code, 'OOM');
  assert.equal(new RespError('BUSYKEY Target key name already exists.').code, 'BUSYKEY');
});

test('big bulk strings arriving in many chunks are assembled once, with the following replies intact', () => {
  const big = Buffer.alloc(1_000_000);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  const wire = Buffer.concat([Buffer.from(`$${big.length}\r\n`), big, Buffer.from('\r\n:7\r\n')]);
  for (const size of [65_536, 1_000_003, 999_999]) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < wire.length; i += size) chunks.push(wire.subarray(i, i + size));
    const out = parseAll(chunks);
    assert.equal(out.length, 2);
    assert.ok((out[0] as Buffer).equals(big));
    assert.equal(out[1], 7);
  }
});

test('a big bulk whose CRLF is split off still ends right', () => {
  const big = Buffer.alloc(300_000, 7);
  const wire = Buffer.concat([Buffer.from(`$${big.length}\r\n`), big, Buffer.from('\r\n+OK\r\n')]);
  const at = wire.indexOf('\r\n+OK') + 1; // between CR and LF
  const out = parseAll([wire.subarray(0, at), wire.subarray(at)]);
  assert.equal(out.length, 2);
  assert.ok((out[0] as Buffer).equals(big));
  assert.equal(out[1], 'OK');
});

test('a protocol error is thrown', () => {
  assert.throws(() => parseAll([Buffer.from('?what\r\n')]), /protocol error/);
});

/** Parses `chunks` with a keepBulk that records every length it is asked about. */
function parseKeeping(chunks: Buffer[], keep: (length: number) => boolean) {
  const out: RespReply[] = [];
  const asked: number[] = [];
  const parser = new ReplyParser(
    (r) => out.push(r),
    (length) => {
      asked.push(length);
      return keep(length);
    },
  );
  for (const c of chunks) parser.feed(c);
  return { out, asked, parser };
}

function split(wire: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < wire.length; i += size) chunks.push(wire.subarray(i, i + size));
  return chunks;
}

// The drained payload looks like replies itself: parsing it instead of dropping it would show.
const DRAINED = Buffer.from('+X\r\n:9\r\n$1\r\n');
const KEEP_WIRE = Buffer.concat([
  Buffer.from('+OK\r\n'),
  Buffer.from(`$${DRAINED.length}\r\n`),
  DRAINED,
  Buffer.from('\r\n:5\r\n$3\r\nabc\r\n'),
  Buffer.from('*2\r\n$14\r\nin-an-array-14\r\n*1\r\n$14\r\nnested-arr-14!\r\n'),
  Buffer.from('$-1\r\n$0\r\n\r\n$14\r\n14-bytes-again\r\n$4\r\nlast\r\n+END\r\n'),
]);
const KEEP_EXPECTED: RespReply[] = [
  'OK',
  new SkippedBulk(DRAINED.length),
  5,
  Buffer.from('abc'),
  [new SkippedBulk(14), [new SkippedBulk(14)]],
  null,
  Buffer.alloc(0),
  new SkippedBulk(14),
  Buffer.from('last'),
  'END',
];
/** Asked once per bulk, in order, nested ones too: never for nil. */
const KEEP_ASKED = [DRAINED.length, 3, 14, 14, 0, 14, 4];
const dropLength = (n: number) => n !== DRAINED.length && n !== 14;

test('keepBulk false drains a bulk string: a SkippedBulk with its length, the next replies intact', () => {
  const { out, asked } = parseKeeping([KEEP_WIRE], dropLength);
  assert.deepEqual(out, KEEP_EXPECTED);
  assert.ok(out[1] instanceof SkippedBulk && out[1].skipped === true && out[1].length === DRAINED.length);
  assert.deepEqual(asked, KEEP_ASKED);
});

test('keepBulk: same replies and exactly one question per bulk whatever the chunk boundaries', () => {
  for (let size = 1; size <= 9; size++) {
    const { out, asked } = parseKeeping(split(KEEP_WIRE, size), dropLength);
    assert.deepEqual(out, KEEP_EXPECTED, `chunks of ${size}`);
    assert.deepEqual(asked, KEEP_ASKED, `chunks of ${size}`);
  }
  for (let cut = 1; cut < KEEP_WIRE.length; cut++) {
    const { out, asked } = parseKeeping([KEEP_WIRE.subarray(0, cut), KEEP_WIRE.subarray(cut)], dropLength);
    assert.deepEqual(out, KEEP_EXPECTED, `cut at ${cut}`);
    assert.deepEqual(asked, KEEP_ASKED, `cut at ${cut}`);
  }
});

test('a kept bulk split across chunks is asked about once (every bulk kept)', () => {
  const wire = Buffer.from('$10\r\n0123456789\r\n$5\r\nhello\r\n:1\r\n');
  for (let size = 1; size <= wire.length; size++) {
    const { out, asked } = parseKeeping(split(wire, size), () => true);
    assert.deepEqual(out, [Buffer.from('0123456789'), Buffer.from('hello'), 1], `chunks of ${size}`);
    assert.deepEqual(asked, [10, 5], `chunks of ${size}`);
  }
});

test('bulks inside arrays are asked about once each and drained in place; nil never asked', () => {
  const wire = Buffer.from('*3\r\n$1\r\na\r\n*2\r\n$2\r\nbc\r\n$-1\r\n$3\r\ndef\r\n$-1\r\n*-1\r\n');
  for (let size = 1; size <= wire.length; size++) {
    const { out, asked } = parseKeeping(split(wire, size), (n) => n !== 2);
    assert.deepEqual(
      out,
      [[Buffer.from('a'), [new SkippedBulk(2), null], Buffer.from('def')], null, null],
      `chunks of ${size}`,
    );
    assert.deepEqual(asked, [1, 2, 3], `chunks of ${size}`);
  }
});

test('a big drained bulk inside an array is never buffered; the array goes on after it', () => {
  const big = Buffer.alloc(600_000, 0x2a); // '*': would parse as arrays if not dropped
  const wire = Buffer.concat([
    Buffer.from(`*3\r\n$2\r\nhi\r\n$${big.length}\r\n`),
    big,
    Buffer.from('\r\n$3\r\nbye\r\n:1\r\n'),
  ]);
  for (const size of [7, 65_536, wire.length]) {
    const out: RespReply[] = [];
    const parser = new ReplyParser(
      (r) => out.push(r),
      (n) => n !== big.length,
    );
    for (const c of split(wire, size)) {
      parser.feed(c);
      assert.ok(parser.buffered < 65_600, `buffered ${parser.buffered} bytes`);
    }
    assert.deepEqual(out, [[Buffer.from('hi'), new SkippedBulk(big.length), Buffer.from('bye')], 1]);
  }
});

test('a big drained bulk is never buffered, and its CRLF may arrive split', () => {
  const big = Buffer.alloc(1_000_000, 0x2b); // '+': would parse as replies if not dropped
  const wire = Buffer.concat([Buffer.from(`$${big.length}\r\n`), big, Buffer.from('\r\n:7\r\n$2\r\nok\r\n')]);
  const crlf = wire.length - ':7\r\n$2\r\nok\r\n'.length - 2;
  const cuts: Buffer[][] = [
    [wire],
    split(wire, 65_536),
    split(wire, 999_999),
    // Data ends, then the CR alone, then the LF with the next replies.
    [wire.subarray(0, crlf), wire.subarray(crlf, crlf + 1), wire.subarray(crlf + 1)],
    // Data and CR, then LF alone.
    [wire.subarray(0, crlf + 1), wire.subarray(crlf + 1, crlf + 2), wire.subarray(crlf + 2)],
  ];
  for (const chunks of cuts) {
    const out: RespReply[] = [];
    let asks = 0;
    const parser = new ReplyParser(
      (r) => out.push(r),
      (length) => {
        asks++;
        return length !== big.length;
      },
    );
    for (const c of chunks) {
      parser.feed(c);
      assert.ok(parser.buffered < 64, `buffered ${parser.buffered} bytes of a drained bulk`);
    }
    assert.deepEqual(out, [new SkippedBulk(big.length), 7, Buffer.from('ok')], `${chunks.length} chunks`);
    assert.equal(asks, 2, `${chunks.length} chunks`);
  }
});

test('a drained bulk fed byte by byte, between kept ones', () => {
  const drop = Buffer.alloc(300, 0x0d); // all CR
  const wire = Buffer.concat([
    Buffer.from('$2\r\nhi\r\n'),
    Buffer.from(`$${drop.length}\r\n`),
    drop,
    Buffer.from('\r\n$3\r\nbye\r\n'),
  ]);
  const { out, asked } = parseKeeping(split(wire, 1), (n) => n !== drop.length);
  assert.deepEqual(out, [Buffer.from('hi'), new SkippedBulk(drop.length), Buffer.from('bye')]);
  assert.deepEqual(asked, [2, drop.length, 3]);
});

test('a big kept bulk (>= 256 KiB) split across chunks is asked about once and assembled', () => {
  const big = Buffer.alloc(300 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 256;
  const wire = Buffer.concat([
    Buffer.from('$1\r\nx\r\n'),
    Buffer.from(`$${big.length}\r\n`),
    big,
    Buffer.from('\r\n$1\r\ny\r\n'),
  ]);
  for (const size of [1000, 65_536, 200_000, wire.length - 3, wire.length]) {
    const { out, asked } = parseKeeping(split(wire, size), () => true);
    assert.equal(out.length, 3, `chunks of ${size}`);
    assert.deepEqual(out[0], Buffer.from('x'));
    assert.ok(Buffer.isBuffer(out[1]) && out[1].equals(big), `chunks of ${size}`);
    assert.deepEqual(out[2], Buffer.from('y'));
    assert.deepEqual(asked, [1, big.length, 1], `chunks of ${size}`);
  }
});
