// RespConnection.execEncoded's byte cap against a real redis-server: bulk strings past the cap are
// drained and come back as SkippedBulk, and the connection stays in step for what follows.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { RespConnection } from '../../src/engine/resp/connection.js';
import { type RespReply, SkippedBulk } from '../../src/engine/resp/reply.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

const VALUES: Record<string, Buffer> = {
  a: randomBytes(1000),
  b: randomBytes(8000),
  c: randomBytes(3000),
  d: randomBytes(2000),
  e: randomBytes(1),
  empty: Buffer.alloc(0),
  // Arrives over many socket reads, and is over the parser's "big bulk" size.
  huge: randomBytes(2 * 1024 * 1024),
  // Looks like RESP: a drained value must not be parsed.
  tricky: Buffer.from('+OK\r\n:1\r\n$3\r\nabc\r\n'.repeat(100)),
};

function gets(conn: RespConnection, keys: string[], cap?: number): Promise<RespReply[]> {
  return conn.execEncoded(
    keys.length,
    (enc) => {
      for (const k of keys) enc.push(['GET', k]);
    },
    cap,
  );
}

/** Each reply: the Buffer's value name, `skipped:<length>`, or the reply itself. */
function describeReplies(replies: RespReply[]): unknown[] {
  return replies.map((r) => {
    if (r instanceof SkippedBulk) return `skipped:${r.length}`;
    if (Buffer.isBuffer(r)) {
      const name = Object.keys(VALUES).find((k) => VALUES[k]!.equals(r));
      return name ?? `unknown buffer of ${r.length}`;
    }
    return r;
  });
}

describe('RespConnection: byte cap on a pipeline', () => {
  let server: RedisServer;
  let conn: RespConnection;
  before(async () => {
    server = await startRedis();
    const c = await server.client();
    for (const [k, v] of Object.entries(VALUES)) await c.set(k, v);
    conn = await RespConnection.open(parseEndpointUrl(server.url, 'cap'));
  });
  after(async () => {
    await conn?.close();
    await server.stop();
  });

  test('bulks past the cap come back as SkippedBulk with their length; the rest as bytes', async () => {
    // a 1000 kept; b 8000 would make 9000: drained; c 3000 -> 4000; d 2000 -> 6000 (exactly the cap);
    // e 1 -> 6001, but bulks of up to 64 bytes are always kept (cursors, scores, ids, TIME parts);
    // empty (0 bytes) fits; non-bulk replies are untouched.
    const replies = await conn.execEncoded(
      9,
      (enc) => {
        enc.push(['GET', 'a']);
        enc.push(['GET', 'b']);
        enc.push(['STRLEN', 'b']);
        enc.push(['GET', 'c']);
        enc.push(['GET', 'missing']);
        enc.push(['GET', 'd']);
        enc.push(['GET', 'e']);
        enc.push(['GET', 'empty']);
        enc.push(['PING']);
      },
      6000,
    );
    assert.deepEqual(describeReplies(replies), [
      'a',
      'skipped:8000',
      8000,
      'c',
      null,
      'd',
      'e',
      'empty',
      'PONG',
    ]);
    assert.ok(replies[1] instanceof SkippedBulk && replies[1].skipped);
  });

  test('a huge value and RESP-looking bytes are drained, and the connection stays in step', async () => {
    const replies = await gets(conn, ['huge', 'tricky', 'a', 'huge', 'e'], 1000);
    assert.deepEqual(describeReplies(replies), [
      `skipped:${VALUES['huge']!.length}`,
      `skipped:${VALUES['tricky']!.length}`,
      'a',
      `skipped:${VALUES['huge']!.length}`,
      'e',
    ]);
    assert.equal(await conn.call('PING'), 'PONG');
    assert.deepEqual(describeReplies([await conn.call('GET', 'c')]), ['c']);
  });

  test('a cap of 0 keeps only empty strings', async () => {
    const replies = await gets(conn, ['a', 'empty', 'tricky', 'missing'], 0);
    assert.deepEqual(describeReplies(replies), [
      'skipped:1000',
      'empty',
      `skipped:${VALUES['tricky']!.length}`,
      null,
    ]);
  });

  test('the cap belongs to its pipeline: pipelines sent together are capped separately', async () => {
    const keys = ['huge', 'a', 'b', 'tricky', 'huge'];
    const [capped, uncapped, small, again] = await Promise.all([
      gets(conn, keys, 0),
      gets(conn, keys),
      gets(conn, ['b', 'a'], 1000),
      gets(conn, ['b', 'a'], 8000),
    ]);
    assert.deepEqual(describeReplies(capped), [
      `skipped:${VALUES['huge']!.length}`,
      'skipped:1000',
      'skipped:8000',
      `skipped:${VALUES['tricky']!.length}`,
      `skipped:${VALUES['huge']!.length}`,
    ]);
    assert.deepEqual(describeReplies(uncapped), keys);
    assert.deepEqual(describeReplies(small), ['skipped:8000', 'a']);
    assert.deepEqual(describeReplies(again), ['b', 'skipped:1000']);
  });

  test('after capped pipelines, one without a cap gets every value', async () => {
    await gets(conn, Object.keys(VALUES), 10);
    const replies = await gets(conn, Object.keys(VALUES));
    assert.deepEqual(describeReplies(replies), Object.keys(VALUES));
    assert.equal(conn.broken, false);
  });

  test('bulks inside arrays are capped too; short ones (cursors, ids) always kept', async () => {
    const c = await server.client();
    await c.del('list');
    await c.rpush('list', VALUES['a']!, VALUES['b']!, VALUES['e']!, VALUES['c']!);
    const [range] = await conn.exec([['LRANGE', 'list', 0, -1]], 5000);
    assert.deepEqual(describeReplies(range as RespReply[]), ['a', 'skipped:8000', 'e', 'c']);
    assert.equal(await conn.call('PING'), 'PONG');
  });
});
