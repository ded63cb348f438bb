// The psync engine under a DbMapping: one source database into another target database (RDB and
// stream), other databases left out, FLUSHALL on the source emptying only what is mapped; and a
// source user without the replication commands refused with a message that says what to grant.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PsyncReplica } from '../../src/engine/psync/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { caughtUp, logger, replicaOf, startPair } from './psync-support/setup.js';

test('db 3 of the source into db 5 of the target: RDB and stream, other dbs left out', async () => {
  const pair = await startPair();
  try {
    const c = await pair.source.client();
    await c.set('db0-key', 'x');
    await c.select(3);
    await c.set('rdb-key', 'in the RDB', 'PX', 600_000);
    const t = await pair.target.client();
    await t.select(7);
    await t.set('target-own', 'stays');
    const { replica } = replicaOf(pair, { mapping: { dbs: [3], remap: { from: 3, to: 5 } } });
    await replica.start();
    await replica.rdbLoaded();
    await c.set('stream-key', 'live');
    await c.select(0);
    await c.set('db0-live', 'not copied');
    await c.select(3);
    await c.rpush('list', 'a', 'b');
    await caughtUp(replica);
    await t.select(5);
    assert.equal(await t.get('rdb-key'), 'in the RDB');
    assert.ok((await t.pttl('rdb-key')) > 500_000);
    assert.equal(await t.get('stream-key'), 'live');
    assert.deepEqual(await t.lrange('list', 0, -1), ['a', 'b']);
    assert.equal(await t.dbsize(), 3);
    await t.select(0);
    assert.equal(await t.dbsize(), 0, 'db 0 of the source is not copied');
    await t.select(3);
    assert.equal(await t.dbsize(), 0);
    // FLUSHALL on the source empties the mapped target db only.
    await c.flushall();
    await c.select(3);
    await c.set('after', '1');
    await caughtUp(replica);
    await t.select(5);
    assert.deepEqual(await t.keys('*'), ['after']);
    await t.select(7);
    assert.equal(await t.get('target-own'), 'stays');
    await replica.stop();
  } finally {
    await pair.stop();
  }
});

test('a source user without PSYNC is refused, saying what the ACL needs', async () => {
  const pair = await startPair({ configLines: ['user reader on >reader-pw ~* &* +@all -psync -sync'] });
  try {
    const replica = new PsyncReplica({
      source: parseEndpointUrl(pair.source.urlFor('reader', 'reader-pw')),
      target: parseEndpointUrl(pair.target.url),
      mapping: { dbs: 'all' },
      logger,
    });
    const err = await replica.start().then(
      () => null,
      (e: Error) => e,
    );
    assert.ok(err);
    assert.match(err.message, /refused PSYNC: NOPERM/);
    assert.match(err.message, /\+psync/);
    assert.ok(!err.message.includes('reader-pw'));
    assert.equal(replica.failure, err);
  } finally {
    await pair.stop();
  }
});
