// The psync engine's live phase: the replication stream applied in order (MULTI/EXEC, FLUSHDB,
// expirations, evictions), resumed after a cut (CONTINUE), a full resync when the backlog is too
// small, a checkpoint handed to a new replica, the cutover wait, and errors without credentials.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PsyncReplica } from '../../src/engine/psync/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { compareServers } from '../harness/compare.js';
import { caughtUp, logger, replicaOf, startPair } from './psync-support/setup.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('live writes arrive in order: MULTI/EXEC, several dbs, FLUSHDB, binary values', async () => {
  const pair = await startPair();
  try {
    const c = await pair.source.client();
    await c.set('before', '1');
    const { replica } = replicaOf(pair);
    await replica.start();
    await replica.rdbLoaded();
    for (let i = 0; i < 200; i++) await c.rpush('list', `item-${i}`);
    await c
      .multi()
      .set('tx:a', '1')
      .incr('tx:counter')
      .hset('tx:h', 'f', Buffer.from([0, 255, 13, 10]))
      .exec();
    await c.select(2);
    await c.set('db2:k', 'v');
    await c.select(5);
    await c.set('db5:doomed', 'x');
    await c.flushdb();
    await c.set('db5:after-flush', 'y');
    await c.select(0);
    await c.eval(
      "redis.call('SET', KEYS[1], 'from-script'); return redis.call('INCR', KEYS[2])",
      2,
      's:a',
      's:n',
    );
    await caughtUp(replica);
    assert.deepEqual(await compareServers(pair.source, pair.target), []);
    const t = await pair.target.client(5);
    assert.equal(await t.get('db5:doomed'), null);
    assert.equal(await t.get('db5:after-flush'), 'y');
    await replica.stop();
  } finally {
    await pair.stop();
  }
});

test('expirations and evictions on the source are mirrored as deletions', async () => {
  // The target never expires keys by itself here, so only deletions from the stream remove them.
  const pair = await startPair(
    { configLines: ['maxmemory 8mb', 'maxmemory-policy allkeys-lru'] },
    { configLines: ['enable-debug-command yes'] },
  );
  try {
    const c = await pair.source.client();
    const t = await pair.target.client();
    await t.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    const { replica } = replicaOf(pair);
    await replica.start();
    await replica.rdbLoaded();
    for (let i = 0; i < 20; i++) await c.set(`short:${i}`, 'v', 'PX', 1500);
    await c.set('stays', '1');
    await caughtUp(replica);
    assert.equal(await c.dbsize(), 21, 'on the source before they expire');
    assert.equal(await t.dbsize(), 21, 'on the target before they expire');
    await sleep(1700);
    // The source expires them (actively, or when touched) and propagates the deletions.
    for (let i = 0; i < 20; i++) await c.exists(`short:${i}`);
    await caughtUp(replica);
    assert.equal(await t.dbsize(), 1, 'deleted on the target (DBSIZE counts keys past their TTL)');
    const evictedBefore = Number(/evicted_keys:(\d+)/.exec(String(await c.info('stats')))![1]);
    const big = 'x'.repeat(10_000);
    for (let i = 0; i < 1500; i++) await c.set(`fill:${i}`, big);
    const evicted = Number(/evicted_keys:(\d+)/.exec(String(await c.info('stats')))![1]) - evictedBefore;
    assert.ok(evicted > 0, 'the source evicted keys');
    await caughtUp(replica);
    assert.equal(await t.dbsize(), await c.dbsize());
    assert.ok((await t.dbsize()) < 1500 - evicted + 2);
    // Any command may evict on a source over its limit (the comparison's reads too): lift it first.
    await c.call('CONFIG', 'SET', 'maxmemory', '0');
    await caughtUp(replica);
    assert.deepEqual(await compareServers(pair.source, pair.target), []);
    await replica.stop();
  } finally {
    await pair.stop();
  }
});

test('a cut link resumes with CONTINUE and loses nothing', async () => {
  const pair = await startPair();
  try {
    const c = await pair.source.client();
    const { replica, events } = replicaOf(pair);
    await replica.start();
    await replica.rdbLoaded();
    const writing = (async () => {
      for (let i = 0; i < 400; i++) {
        await c.incr('counter');
        await c.rpush('log', String(i));
        if (i % 100 === 50) await c.client('KILL', 'TYPE', 'replica');
      }
    })();
    await writing;
    await caughtUp(replica, 20_000);
    assert.ok(events.some((e) => e.kind === 'disconnected'));
    assert.ok(events.some((e) => e.kind === 'continued'));
    assert.equal(events.filter((e) => e.kind === 'full-sync-started').length, 1);
    const t = await pair.target.client();
    assert.equal(await t.get('counter'), '400');
    assert.deepEqual(await compareServers(pair.source, pair.target), []);
    await replica.stop();
  } finally {
    await pair.stop();
  }
});

test('a backlog too small for the cut forces a full resync, with the event that says why', async () => {
  const pair = await startPair({ configLines: ['repl-backlog-size 16kb'] });
  try {
    const c = await pair.source.client();
    await c.set('old', '1');
    const { replica, events } = replicaOf(pair);
    await replica.start();
    await replica.rdbLoaded();
    await caughtUp(replica);
    // Keep the replica away (its reconnects are refused) while far more than the backlog is written.
    await c.call('ACL', 'SETUSER', 'default', '-psync', '-sync');
    await c.client('KILL', 'TYPE', 'replica');
    const value = 'v'.repeat(1000);
    for (let i = 0; i < 100; i++) await c.set(`k:${i}`, value);
    await c.del('old');
    await c.call('ACL', 'SETUSER', 'default', '+psync', '+sync');
    for (let i = 0; i < 100 && events.filter((e) => e.kind === 'rdb-loaded').length < 2; i++)
      await sleep(100);
    await caughtUp(replica, 20_000);
    const resync = events.find((e) => e.kind === 'resync-needed');
    assert.ok(resync && resync.kind === 'resync-needed', JSON.stringify(events.map((e) => e.kind)));
    assert.equal(resync.backlogBytes, 16 * 1024);
    assert.ok((resync.suggestedBacklogBytes ?? 0) >= 100_000, String(resync.suggestedBacklogBytes));
    assert.equal(events.filter((e) => e.kind === 'full-sync-started').length, 2);
    const t = await pair.target.client();
    assert.equal(await t.get('old'), null);
    assert.deepEqual(await compareServers(pair.source, pair.target), []);
    await replica.stop();
  } finally {
    await pair.stop();
  }
});

test('a checkpoint handed to a new replica continues where the first one stopped', async () => {
  const pair = await startPair();
  try {
    const c = await pair.source.client();
    const checkpoints: unknown[] = [];
    const { replica } = replicaOf(pair, { onCheckpoint: (cp) => void checkpoints.push(cp) });
    await replica.start();
    await replica.rdbLoaded();
    await c.select(4);
    await c.set('a', '1');
    await caughtUp(replica);
    await replica.stop();
    const cp = replica.checkpoint!;
    assert.ok(cp);
    assert.equal(cp.db, 4);
    assert.deepEqual(checkpoints.at(-1), cp, 'the last checkpoint is reported at stop');
    // Written while no replica runs, into the db the stream had selected (no new SELECT).
    await c.set('b', '2');
    await c.select(0);
    await c.set('c', '3');
    const { replica: next, events } = replicaOf(pair, { resumeFrom: JSON.parse(JSON.stringify(cp)) });
    await next.start();
    assert.deepEqual(await next.rdbLoaded(), { keys: 0, bytes: 0 });
    await caughtUp(next);
    assert.ok(events.some((e) => e.kind === 'continued'));
    assert.ok(!events.some((e) => e.kind === 'full-sync-started'));
    assert.deepEqual(await compareServers(pair.source, pair.target), []);
    await next.stop();
  } finally {
    await pair.stop();
  }
});

test('the cutover wait: after CLIENT PAUSE WRITE the applied offset reaches master_repl_offset', async () => {
  const pair = await startPair();
  try {
    const c = await pair.source.client();
    const { replica } = replicaOf(pair);
    await replica.start();
    await replica.rdbLoaded();
    for (let i = 0; i < 300; i++) void c.set(`w:${i}`, String(i));
    await c.call('CLIENT', 'PAUSE', '10000', 'WRITE');
    try {
      const offset = await replica.sourceOffset();
      assert.ok(await replica.waitForOffset(offset, 10_000));
      assert.ok(replica.checkpoint!.offset >= offset);
      // Lag from the ~1/s poll: none once caught up with the paused source.
      await sleep(1200);
      assert.deepEqual(replica.lag(), { bytes: 0, seconds: 0, sourceOffset: offset });
    } finally {
      await c.call('CLIENT', 'UNPAUSE');
    }
    assert.equal(await replica.waitForOffset(Number.MAX_SAFE_INTEGER, 200), false, 'a wait can time out');
    assert.deepEqual(await compareServers(pair.source, pair.target), []);
    await replica.stop();
  } finally {
    await pair.stop();
  }
});

test('a target error stops it naming the command and key; credentials never in errors', async () => {
  const pair = await startPair({ password: 'source-secret-pw' }, { password: 'target-secret-pw' });
  try {
    const c = await pair.source.client();
    const { replica } = replicaOf(pair);
    await replica.start();
    await replica.rdbLoaded();
    const t = await pair.target.client();
    await t.set('clash', 'a string on the target');
    const failed = new Promise<Error>((resolve) => replica.onFailure(resolve));
    await c.hset('clash', 'f', 'v');
    const err = await failed;
    assert.match(err.message, /HSET on key clash/);
    assert.match(err.message, /WRONGTYPE/);
    assert.equal(replica.phase, 'failed');
    assert.ok(!err.message.includes('secret-pw'));
    // A wrong source password: the error names the source, not the password.
    const bad = new PsyncReplica({
      source: parseEndpointUrl(pair.source.url.replace('source-secret-pw', 'wrong-secret-pw')),
      target: parseEndpointUrl(pair.target.url),
      mapping: { dbs: 'all' },
      logger,
      onNonEmptyTarget: 'replace',
    });
    const e = await bad.start().then(
      () => null,
      (x: Error) => x,
    );
    assert.ok(e);
    assert.match(e.message, /authentication failed|WRONGPASS|invalid/i);
    assert.ok(!e.message.includes('secret-pw'), e.message);
  } finally {
    await pair.stop();
  }
});

test('lag in bytes and seconds while the target is held up, back to 0 when it catches up', async () => {
  const pair = await startPair();
  try {
    const c = await pair.source.client();
    const { replica } = replicaOf(pair);
    await replica.start();
    await replica.rdbLoaded();
    await caughtUp(replica);
    const t = await pair.target.client();
    await t.call('CLIENT', 'PAUSE', '4000', 'WRITE');
    for (let i = 0; i < 50; i++) await c.set(`held:${i}`, 'x'.repeat(100));
    await sleep(2500);
    const held = replica.lag();
    assert.ok((held.bytes ?? 0) > 50 * 100, JSON.stringify(held));
    assert.ok((held.seconds ?? 0) >= 1, JSON.stringify(held));
    await t.call('CLIENT', 'UNPAUSE');
    await caughtUp(replica);
    await sleep(1200);
    const after = replica.lag();
    assert.equal(after.bytes, 0, JSON.stringify(after));
    assert.equal(after.seconds, 0);
    await replica.stop();
  } finally {
    await pair.stop();
  }
});

test('a target that goes away stops the replica, saying so; the checkpoint stays where the target was', async () => {
  const pair = await startPair();
  try {
    const c = await pair.source.client();
    const { replica } = replicaOf(pair);
    await replica.start();
    await replica.rdbLoaded();
    await c.set('a', '1');
    await caughtUp(replica);
    const before = replica.checkpoint!;
    const failed = new Promise<Error>((resolve) => replica.onFailure(resolve));
    pair.target.kill();
    await c.set('b', '2');
    const err = await failed;
    assert.match(err.message, /target/);
    assert.equal(replica.phase, 'failed');
    assert.equal(replica.checkpoint?.offset, before.offset, 'not advanced past what the target acknowledged');
    await replica.stop();
  } finally {
    await pair.stop();
  }
});
