// Leases of steps and followers say "lost" once the control Redis no longer has the migration (it
// restarted empty, or the keys were deleted), so their holders stop instead of waiting to be
// fenced by a worker that will never come.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MigrationStore } from '../../src/runbook/store.js';
import { FollowerStore } from '../../src/strategies/live-phase/index.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

describe('leases when the control Redis lost the migration', () => {
  let control: RedisServer;
  before(async () => {
    control = await startRedis();
  });
  after(() => control.stop());

  it('a step lease and a follower lease both say lost after FLUSHALL, and fenced or ok before', async () => {
    const redis = await control.client();
    const store = new MigrationStore(redis, { prefix: 'lost' });
    const followers = new FollowerStore(store);
    // A claimed step: the fence holds its epoch.
    await redis.hset(store.key('m1', 'fence'), 's1', '3');
    assert.equal(await store.heartbeat('m1', 's1', 3, 1000), 'ok');
    assert.equal(await store.heartbeat('m1', 's1', 2, 1000), 'fenced');
    await followers.startRun('m1', 0, 'follow', 'step:s1', false);
    const claim = await followers.claim({ migrationId: 'm1', run: 1 }, 'w1', 1000);
    assert.equal(claim.kind, 'claimed');
    assert.equal(await followers.heartbeat({ migrationId: 'm1', run: 1 }, 1, 1000), 'ok');
    assert.equal(await followers.heartbeat({ migrationId: 'm1', run: 1 }, 0, 1000), 'fenced');

    await redis.flushall();
    assert.equal(await store.heartbeat('m1', 's1', 3, 1000), 'lost');
    assert.equal(await followers.heartbeat({ migrationId: 'm1', run: 1 }, 1, 1000), 'lost');
  });
});
