import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplyParser } from '../../../../src/engine/resp/parser.js';
import { RespError, type RespReply } from '../../../../src/engine/resp/reply.js';

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
