// The RDB reader fed from a socket as a replica receives it: a real server's full sync, disk-backed
// (`$<length>`) and diskless (`$EOF:<mark>`), read chunk by chunk as the socket delivers them. Each
// entry equals what the server DUMPs for that key; the bytes after the RDB (the diskless mark, then
// the replication stream) are handed back.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { type RdbEntry, RdbReader } from '../../src/engine/rdb/index.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { fillEveryType } from './copy-fixtures.js';

/**
 * Sends the setup commands one at a time (a server refuses SYNC with replies still pending), then
 * the sync command, and hands the socket's bytes to `onChunk` until it says it has enough.
 */
function fullSync(
  server: RedisServer,
  commands: string[],
  onChunk: (chunk: Buffer) => Promise<boolean>,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(server.port, server.host);
    socket.once('error', reject);
    socket.once('connect', async () => {
      try {
        const setup = commands.slice(0, -1);
        let replies = Buffer.alloc(0);
        for (const command of setup) {
          socket.write(`${command}\r\n`);
          while (!replies.includes('\r\n')) replies = Buffer.concat([replies, await nextChunk(socket)]);
          const line = replies.subarray(0, replies.indexOf('\r\n')).toString();
          assert.equal(line, '+OK', command);
          replies = replies.subarray(replies.indexOf('\r\n') + 2);
        }
        socket.write(`${commands.at(-1)}\r\n`);
        for await (const chunk of socket) {
          if (await onChunk(chunk as Buffer)) break;
        }
        resolve();
      } catch (err) {
        reject(err);
      } finally {
        socket.destroy();
      }
    });
  });
}

function nextChunk(socket: Socket): Promise<Buffer> {
  return new Promise((resolve) => socket.once('data', resolve));
}

/** Splits the replication preface (+OK/+FULLRESYNC lines, \n keep-alives, the $ line) from the RDB bytes. */
class Preface {
  private head = Buffer.alloc(0);
  transfer: { length: number } | { mark: Buffer } | undefined;

  /** The RDB bytes in `chunk`, once the $ line has passed. */
  feed(chunk: Buffer): Buffer {
    if (this.transfer) return chunk;
    this.head = Buffer.concat([this.head, chunk]);
    for (;;) {
      while (this.head[0] === 0x0a) this.head = this.head.subarray(1);
      const eol = this.head.indexOf('\r\n');
      if (eol < 0) return Buffer.alloc(0);
      const line = this.head.subarray(0, eol).toString('latin1');
      this.head = this.head.subarray(eol + 2);
      if (line.startsWith('$EOF:')) this.transfer = { mark: Buffer.from(line.slice(5), 'latin1') };
      else if (line.startsWith('$')) this.transfer = { length: Number(line.slice(1)) };
      else if (line.startsWith('-')) throw new Error(line);
      if (this.transfer) return this.head;
    }
  }
}

async function syncAndRead(server: RedisServer, commands: string[]) {
  const entries: RdbEntry[] = [];
  const preface = new Preface();
  let slowed = 0;
  const reader = new RdbReader(async (e) => {
    if (e.kind !== 'entry') return;
    entries.push(e.entry);
    // A slow consumer: the socket is not read meanwhile (for await waits for write()).
    if (entries.length % 20 === 0) {
      slowed++;
      await new Promise((r) => setTimeout(r, 2));
    }
  });
  await fullSync(server, commands, async (chunk) => {
    const rdb = preface.feed(chunk);
    if (rdb.length > 0) await reader.write(rdb);
    if (!reader.done) return false;
    const t = preface.transfer!;
    return 'length' in t ? true : reader.trailing.length >= t.mark.length;
  });
  reader.end();
  return { entries, reader, transfer: preface.transfer!, slowed };
}

async function assertDumps(server: RedisServer, entries: RdbEntry[]): Promise<void> {
  const c = await server.client();
  assert.ok(entries.length > 20);
  for (const e of entries) {
    await c.select(e.db);
    const dump = (await c.callBuffer('DUMP', e.key)) as Buffer;
    assert.ok(dump?.equals(e.payload), `payload of ${e.key.toString('latin1').slice(0, 40)}`);
  }
  await c.select(0);
}

test('a disk-backed full sync ($<length>) read from the socket', async () => {
  const server = await startRedis({ configLines: ['repl-diskless-sync no'] });
  try {
    const c = await server.client();
    await fillEveryType(c);
    await c.select(2);
    await fillEveryType(c, 'db2:');
    const { entries, reader, transfer, slowed } = await syncAndRead(server, ['SYNC']);
    assert.ok('length' in transfer);
    assert.equal(reader.offset, transfer.length);
    assert.ok(slowed > 0);
    await assertDumps(server, entries);
  } finally {
    await server.stop();
  }
});

test('a diskless full sync ($EOF:<mark>): the RDB ends at its checksum, the mark follows', async () => {
  const server = await startRedis({ configLines: ['repl-diskless-sync yes', 'repl-diskless-sync-delay 0'] });
  try {
    const c = await server.client();
    await fillEveryType(c);
    const { entries, reader, transfer } = await syncAndRead(server, [
      'REPLCONF listening-port 1',
      'REPLCONF capa eof capa psync2',
      'PSYNC ? -1',
    ]);
    assert.ok('mark' in transfer);
    assert.equal(transfer.mark.length, 40);
    assert.ok(reader.trailing.subarray(0, 40).equals(transfer.mark), 'the EOF mark right after the checksum');
    await assertDumps(server, entries);
  } finally {
    await server.stop();
  }
});
