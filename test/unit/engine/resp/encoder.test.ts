import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandEncoder, commandTemplate } from '../../../../src/engine/resp/encoder.js';
import { ReplyParser } from '../../../../src/engine/resp/parser.js';
import type { RespArg, RespReply } from '../../../../src/engine/resp/reply.js';

/** Commands are RESP arrays of bulk strings: the reply parser reads them back. */
function roundTrip(commands: RespArg[][]): RespReply[] {
  const enc = new CommandEncoder();
  for (const c of commands) enc.push(c);
  const out: RespReply[] = [];
  const parser = new ReplyParser((r) => out.push(r));
  for (const chunk of enc.take()) parser.feed(chunk);
  return out;
}

const asBuffers = (cmd: RespArg[]) =>
  cmd.map((a) => (Buffer.isBuffer(a) ? a : Buffer.from(typeof a === 'number' ? String(a) : a)));

test('encodes strings, numbers and binary buffers exactly', () => {
  const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const commands: RespArg[][] = [
    ['RESTORE', binary, 0, Buffer.from('payload\r\n'), 'REPLACE'],
    ['PEXPIRE', 'key', 1234567890123],
    ['SET', 'ünïcødé', ''],
    ['ZADD', 'z', -1.5, 'm', 0, 'n', 10, 'o'],
    ['GET', 'x'.repeat(40_000)],
    ['SET', 'big', Buffer.alloc(100_000, 1)],
  ];
  assert.deepEqual(roundTrip(commands), commands.map(asBuffers));
});

test('many commands spanning several internal blocks come back in order', () => {
  const commands: RespArg[][] = [];
  for (let i = 0; i < 20_000; i++) commands.push(['DUMP', Buffer.from(`key:${i}:${'v'.repeat(i % 40)}`)]);
  assert.deepEqual(roundTrip(commands), commands.map(asBuffers));
});

test('take() resets: later commands do not overwrite bytes already handed out', () => {
  const enc = new CommandEncoder();
  enc.push(['PING']);
  const first = Buffer.concat(enc.take());
  const firstCopy = Buffer.from(first);
  enc.push(['ECHO', 'overwrite?']);
  enc.take();
  assert.deepEqual(first, firstCopy);
  assert.equal(first.toString(), '*1\r\n$4\r\nPING\r\n');
});

test('templates write numbers of every length and buffers exactly, on the fast path and off it', () => {
  const restore = commandTemplate(['RESTORE'], 3, ['REPLACE']);
  const numbers = [0, 7, 9, 10, 99, 100, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 9, 9_999_999_999, 1e10, 2 ** 53 - 1];
  const big = Buffer.alloc(20_000, 0xab); // over the inline copy limit: written as its own chunk
  const enc = new CommandEncoder();
  for (const n of numbers) enc.pushTemplate(restore, Buffer.from([0, 13, 10, 255]), n, big);
  for (const n of numbers) enc.pushTemplate(restore, Buffer.from('k'), n, Buffer.from('v'));
  const out: RespReply[] = [];
  const parser = new ReplyParser((r) => out.push(r));
  for (const chunk of enc.take()) parser.feed(chunk);
  assert.equal(out.length, numbers.length * 2);
  out.forEach((reply, i) => {
    const n = numbers[i % numbers.length]!;
    const [name, key, ttl, payload, flag] = reply as Buffer[];
    assert.equal(name!.toString(), 'RESTORE');
    assert.equal(ttl!.toString(), String(n), `number ${n}`);
    assert.equal(flag!.toString(), 'REPLACE');
    if (i < numbers.length) {
      assert.deepEqual(key, Buffer.from([0, 13, 10, 255]));
      assert.ok(payload!.equals(big));
    } else {
      assert.equal(payload!.toString(), 'v');
    }
  });
});
