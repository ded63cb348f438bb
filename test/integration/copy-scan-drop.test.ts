// The SCAN connection reads one page ahead (PageReader in copy-keys.ts). If it drops while that
// read is in flight and the copy loop is waiting for a batch (window full), the read's rejection
// must not go unhandled: Node 20 ends the process on an unhandled rejection (the CLI has no
// handler), instead of reconnecting and resuming.
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { copyKeys } from '../../src/engine/copy/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { compareServers } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { killCopierConnections } from './copy-fixtures.js';

interface Proxy {
  url: string;
  close(): void;
}

/** A TCP proxy that delays every server -> client chunk by `delayMs` (a slow link). */
async function slowLink(upstream: RedisServer, delayMs: number): Promise<Proxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const up = connect(upstream.port, upstream.host);
    sockets.add(client).add(up);
    client.on('data', (d) => up.write(d));
    up.on('data', (d) =>
      setTimeout(() => {
        if (!client.destroyed) client.write(d);
      }, delayMs),
    );
    const end = () => {
      client.destroy();
      up.destroy();
    };
    for (const s of [client, up]) {
      s.on('close', end);
      s.on('error', () => {});
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `redis://127.0.0.1:${port}`,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
before(() => process.on('unhandledRejection', onUnhandled));
after(() => process.off('unhandledRejection', onUnhandled));

test('the SCAN connection dropping while batches are slow: reconnect and finish, no unhandled rejection', async () => {
  const source = await startRedis();
  const target = await startRedis();
  // SCAN answers in 20 ms, the target in 300 ms: the window of batches is full and the loop waits
  // for the oldest one while the next page's SCAN is on its way.
  const sourceLink = await slowLink(source, 20);
  const targetLink = await slowLink(target, 300);
  try {
    const c = await source.client();
    const p = c.pipeline();
    for (let i = 0; i < 3000; i++) p.set(`key:${i}`, 'v'.repeat(50));
    await p.exec();
    let seen = 0;
    const killing: Promise<number>[] = [];
    const report = await copyKeys(
      parseEndpointUrl(sourceLink.url, 'src'),
      parseEndpointUrl(targetLink.url, 'dst'),
      {
        dbs: 'all',
        onNonEmptyTarget: 'refuse',
        batchSize: 100,
        transformPayload: (_key, payload) => {
          seen++;
          if (seen === 800) killing.push(killCopierConnections(source, 'copy-scan'));
          return payload;
        },
      },
    );
    assert.deepEqual(await Promise.all(killing), [1]);
    assert.equal(report.complete, true);
    assert.deepEqual(await compareServers(source, target), []);
    assert.deepEqual(unhandled.map(String), []);
  } finally {
    sourceLink.close();
    targetLink.close();
    await source.stop();
    await target.stop();
  }
});
