// The replication stream cut into commands: whatever the chunking, the same commands with the
// same offsets; inline commands; bad framing is an error, not a guess.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandStream, StreamFormatError } from '../../../../src/engine/psync/command-stream.js';

function resp(...args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(a);
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

const binary = Buffer.from([0, 13, 10, 42, 36, 255, 13]);
const commands = [
  resp('SELECT', '0'),
  resp('SET', 'k', binary),
  resp('PING'),
  resp('MULTI'),
  resp('INCR', 'c'),
  resp('EXEC'),
  resp('SET', 'big', Buffer.alloc(70_000, 7)),
  resp('REPLCONF', 'GETACK', '*'),
];
const stream = Buffer.concat(commands);

function parse(chunks: Buffer[], start = 1000) {
  const cs = new CommandStream(start);
  const out = [];
  for (const c of chunks) out.push(...cs.feed(c));
  return { out, cs };
}

test('every chunking gives the same commands, raw bytes and end offsets', () => {
  const whole = parse([stream]).out;
  assert.equal(whole.length, commands.length);
  let end = 1000;
  for (let i = 0; i < commands.length; i++) {
    end += commands[i]!.length;
    assert.equal(whole[i]!.end, end);
    assert.ok(whole[i]!.raw.equals(commands[i]!));
  }
  assert.ok(whole[1]!.argv[2]!.equals(binary));
  for (const size of [1, 2, 3, 7, 64, 4096]) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < stream.length; i += size) chunks.push(stream.subarray(i, i + size));
    const { out, cs } = parse(chunks);
    assert.deepEqual(
      out.map((c) => [c.end, c.argv.map((a) => a.toString('hex'))]),
      whole.map((c) => [c.end, c.argv.map((a) => a.toString('hex'))]),
      `chunks of ${size}`,
    );
    assert.equal(cs.consumed, 1000 + stream.length);
    assert.equal(cs.buffered, 0);
  }
});

test('an incomplete command is held until it is whole; the offset stays before it', () => {
  const cs = new CommandStream(0);
  const cmd = resp('SET', 'k', 'value');
  assert.deepEqual(cs.feed(cmd.subarray(0, cmd.length - 1)), []);
  assert.equal(cs.consumed, 0);
  const [one] = cs.feed(cmd.subarray(cmd.length - 1));
  assert.equal(one!.end, cmd.length);
});

test('inline commands are read as words', () => {
  const [ping, set] = new CommandStream(0).feed(Buffer.from('PING\r\nSET a b\n'));
  assert.deepEqual(ping!.argv.map(String), ['PING']);
  assert.deepEqual(set!.argv.map(String), ['SET', 'a', 'b']);
  assert.equal(set!.end, 14);
});

test('broken framing stops with StreamFormatError', () => {
  assert.throws(() => new CommandStream(0).feed(Buffer.from('*1\r\n:5\r\n')), StreamFormatError);
  assert.throws(() => new CommandStream(0).feed(Buffer.from('*1\r\n$x\r\n')), StreamFormatError);
});
