import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startRedis } from './redis-server.js';

test('harness starts servers with passwords, ACL users and renamed commands, and stops them by PID', async () => {
  const a = await startRedis({
    password: 'harness-secret',
    configLines: ['rename-command CONFIG ""', 'user alice on >alice-pw ~* +@all -replicaof'],
  });
  const b = await startRedis();
  try {
    assert.notEqual(a.port, b.port);
    const ca = await a.client();
    assert.equal(await ca.ping(), 'PONG');
    await assert.rejects(ca.call('CONFIG', 'GET', 'maxmemory'), /unknown command/i);
    const cb = await b.client();
    await cb.set('k', 'v');
    assert.equal(await cb.get('k'), 'v');
  } finally {
    await a.stop();
    await b.stop();
  }
  assert.throws(() => process.kill(a.pid, 0), /ESRCH/);
});
