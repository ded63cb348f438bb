// The psync engine against the other servers the suite has (Redis 8.0, Valkey 8.1), source and
// target of the same kind: their RDB (versions 11, 12) and their replication stream.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareServers } from '../harness/compare.js';
import { type ServerName, serverUnavailable } from '../harness/redis-server.js';
import { fillEveryType } from './copy-fixtures.js';
import { caughtUp, replicaOf, startPair } from './psync-support/setup.js';

for (const server of ['redis-8.0', 'valkey-8.1'] as ServerName[]) {
  test(`${server}: full sync and stream`, async (t) => {
    const missing = await serverUnavailable(server);
    if (missing) {
      t.skip(missing);
      return;
    }
    const pair = await startPair({ server }, { server });
    try {
      const c = await pair.source.client();
      await fillEveryType(c);
      const { replica } = replicaOf(pair);
      await replica.start();
      await replica.rdbLoaded();
      await c.multi().set('tx', '1').hset('h', 'f', 'v').exec();
      await c.select(1);
      await c.set('db1', 'x', 'PX', 60_000);
      await caughtUp(replica);
      assert.deepEqual(await compareServers(pair.source, pair.target), []);
      await replica.stop();
    } finally {
      await pair.stop();
    }
  });
}
