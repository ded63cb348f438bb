// The link reader: bytes handed over in order (read-ahead first), and a link that goes silent is
// closed instead of waited on forever (a half-open TCP connection never says it is gone).
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { LinkClosedError, LinkReader } from '../../../../src/engine/psync/link-reader.js';

async function pair(): Promise<{ server: Server; client: Socket; peer: Promise<Socket> }> {
  const server = createServer();
  const peer = new Promise<Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const client = connect(port, '127.0.0.1');
  await new Promise((resolve) => client.once('connect', resolve));
  return { server, client, peer };
}

test('read-ahead first, then the socket; a closed link rejects once everything was read', async () => {
  const { server, client, peer } = await pair();
  try {
    const link = new LinkReader(client, 'test');
    link.unshift(Buffer.from('ahead'));
    (await peer).end('after');
    assert.equal(String(await link.next()), 'ahead');
    assert.equal(String(await link.next()), 'after');
    await assert.rejects(link.next(), LinkClosedError);
  } finally {
    client.destroy();
    server.close();
  }
});

test('a silent link is closed after the idle timeout', async () => {
  const { server, client, peer } = await pair();
  try {
    await peer;
    const link = new LinkReader(client, 'silent source', 200);
    await assert.rejects(link.next(), /link to silent source sent nothing/);
    assert.ok(client.destroyed);
  } finally {
    client.destroy();
    server.close();
  }
});
