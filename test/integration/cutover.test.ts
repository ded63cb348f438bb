// Cutover primitives and the dump-restore cutover against real redis-server processes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import {
  CutoverError,
  cutover,
  type Drainable,
  killClients,
  listSourceClients,
  parseClientList,
  pauseWrites,
  resumeWrites,
} from '../../src/engine/cutover/index.js';
import { LiveSync } from '../../src/engine/live-sync/index.js';
import { connect } from '../../src/redis/connect.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves to 'pending' if the promise has not settled within ms. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([promise, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);
}

/** A write from an ordinary application connection must complete promptly: the source is not paused. */
async function assertNotPaused(server: RedisServer): Promise<void> {
  const c = await server.client();
  assert.equal(await settledWithin(c.set('probe:not-paused', '1'), 2000), 'OK', 'the source is still paused');
}

describe('cutover primitives', () => {
  test('parseClientList reads fields, including empty names and subcommands', () => {
    const parsed = parseClientList(
      'id=3 addr=127.0.0.1:5000 laddr=127.0.0.1:6379 fd=8 name= age=12 idle=4 flags=N db=2 cmd=client|list user=default\n' +
        'id=7 addr=10.0.0.2:41000 fd=9 name=migration-buddy:cutover age=1 idle=0 flags=S db=0 cmd=replconf\n',
    );
    assert.equal(parsed.length, 2);
    assert.equal(parsed[0]!.name, '');
    assert.equal(parsed[0]!.cmd, 'client|list');
    assert.equal(parsed[1]!.flags, 'S');
  });

  test('CLIENT PAUSE WRITE blocks writes but not reads, until resumed; the pause is measured', async () => {
    const server = await startRedis();
    try {
      const admin = await server.client();
      const app = await server.client();
      await app.set('k', 'before');
      const pause = await pauseWrites(admin, { timeoutMs: 10_000 });
      const write = app.set('k', 'during');
      assert.equal(await settledWithin(write, 300), 'pending', 'the write waits');
      const reader = await server.client();
      assert.equal(await reader.get('k'), 'before', 'reads still work');
      const resumed = await resumeWrites(admin, pause);
      assert.equal(await write, 'OK');
      assert.equal(await reader.get('k'), 'during');
      assert.ok(resumed.pausedMs >= 300, `paused ${resumed.pausedMs} ms`);
      assert.equal(resumed.expiredBeforeResume, false);
    } finally {
      await server.stop();
    }
  });

  test('the safety timeout lifts a pause nobody resumes', async () => {
    const server = await startRedis();
    try {
      const admin = await server.client();
      await pauseWrites(admin, { timeoutMs: 200 });
      const app = await server.client();
      assert.equal(await settledWithin(app.set('k', '1'), 3000), 'OK');
    } finally {
      await server.stop();
    }
  });

  test('a user without CLIENT PAUSE gets a message naming the permission', async () => {
    const server = await startRedis({ configLines: ['user mover on >moverpw ~* &* +@all -client|pause'] });
    try {
      const mover = await connect(parseEndpointUrl(server.urlFor('mover', 'moverpw'), 'source'), {
        role: 'test',
      });
      try {
        await assert.rejects(pauseWrites(mover), /refused CLIENT PAUSE.*\+client\|pause/);
      } finally {
        mover.disconnect();
      }
    } finally {
      await server.stop();
    }
  });

  test('listSourceClients lists application connections only; killClients ends them and never ours', async () => {
    const source = await startRedis();
    const replica = await startRedis({ configLines: [`replicaof 127.0.0.1 ${source.port}`] });
    const opened: Redis[] = [];
    try {
      const endpoint = parseEndpointUrl(source.url, 'source');
      const ours = await connect(endpoint, { role: 'cutover' });
      opened.push(ours);
      const app = await source.client(3, { connectionName: 'billing-api' });
      await app.get('x');
      const unnamed = await source.client();
      const monitor = await (await source.client()).monitor();
      opened.push(monitor as unknown as Redis);
      await waitFor('the replica link', async () =>
        /flags=S/.test((await ours.call('CLIENT', 'LIST')) as string),
      );

      const clients = await listSourceClients(ours);
      const billing = clients.find((c) => c.name === 'billing-api');
      assert.ok(billing, 'the named application connection is listed');
      assert.equal(billing.db, 3);
      assert.equal(billing.lastCommand, 'get');
      assert.ok(billing.idleSeconds >= 0 && billing.ageSeconds >= 0);
      assert.match(billing.addr, /^127\.0\.0\.1:\d+$/);
      assert.ok(
        clients.every((c) => !c.name.startsWith('migration-buddy:')),
        'ours are left out',
      );
      assert.ok(
        clients.every((c) => !/[SMO]/.test(c.flags)),
        'replicas and monitors are left out',
      );
      const unnamedId = String(await unnamed.client('ID'));
      assert.ok(
        clients.some((c) => c.id === unnamedId),
        'unnamed connections are listed',
      );

      // Passing our own connection in is refused; the others are killed.
      const all = parseClientList((await ours.call('CLIENT', 'LIST')) as string).map((f) => ({
        id: f.id!,
        addr: f.addr!,
        name: f.name ?? '',
        user: f.user ?? null,
        db: Number(f.db),
        ageSeconds: 0,
        idleSeconds: 0,
        lastCommand: f.cmd ?? '',
        flags: f.flags ?? '',
      }));
      const result = await killClients(ours, all);
      assert.ok(result.refused.some((c) => c.name === 'migration-buddy:cutover'));
      assert.ok(result.refused.some((c) => c.flags.includes('S')));
      assert.ok(result.killed >= 2);
      assert.equal(await ours.ping(), 'PONG', 'our connection survives');
      await waitFor('the killed clients to go', async () => (await listSourceClients(ours)).length === 0);
      assert.match((await ours.call('CLIENT', 'LIST')) as string, /flags=S/, 'the replica survives');
    } finally {
      for (const c of opened) c.disconnect();
      await replica.stop();
      await source.stop();
    }
  });
});

describe('cutover()', () => {
  async function setup() {
    const source = await startRedis({ configLines: ['notify-keyspace-events KEA'] });
    const target = await startRedis();
    const src = parseEndpointUrl(source.url, 'source');
    const tgt = parseEndpointUrl(target.url, 'target');
    return { source, target, src, tgt, stop: () => Promise.all([source.stop(), target.stop()]) };
  }

  test('pause, drain, repoint, kill, resume: every acknowledged write ends up on the target exactly once', async () => {
    const s = await setup();
    try {
      const liveSync = new LiveSync(s.src, s.tgt, { dbs: [0] });
      await liveSync.start();
      // The "application": INCRs on a connection to whatever address it is pointed at, retrying a
      // write whose connection was dropped (it was never executed: it was waiting on the pause).
      const sourceConn = await s.source.client(0, { connectionName: 'app' });
      const targetConn = await s.target.client(0, { connectionName: 'app' });
      let current: Redis = sourceConn;
      let acked = 0;
      let retried = 0;
      let stop = false;
      const app = (async () => {
        while (!stop) {
          try {
            const conn = current;
            await conn.incr('orders');
            acked++;
          } catch {
            retried++;
          }
        }
      })();
      await waitFor('some writes', () => acked >= 200);
      const phases: string[] = [];
      const report = await cutover({
        source: s.src,
        liveSync,
        pauseTimeoutMs: 10_000,
        onPhase: (p) => phases.push(p),
        repoint: async (ctx) => {
          assert.ok(ctx.pauseRemainingMs() > 0);
          await new Promise((r) => setTimeout(r, 100)); // a hook that takes a while
          current = targetConn;
        },
      });
      await waitFor('writes on the target', () => acked >= 400);
      stop = true;
      await app;

      assert.deepEqual(phases, [
        'pausing',
        'draining',
        'repointing',
        'killing',
        'stopping-live-sync',
        'resuming',
      ]);
      assert.equal(Number(await (await s.target.client()).get('orders')), acked, 'no write lost or doubled');
      assert.ok(retried >= 1, 'the write waiting on the pause failed over to the target');
      assert.ok(report.pausedMs >= 100, `paused ${report.pausedMs} ms`);
      assert.equal(report.pauseExpired, false);
      assert.ok(
        report.killed.some((c) => c.name === 'app'),
        'the stale application connection was killed',
      );
      assert.deepEqual(report.clientsRemaining, []);
      assert.equal(liveSync.status().state, 'stopped');
      await assertNotPaused(s.source);
    } finally {
      await s.stop();
    }
  });

  test('a failing repoint resumes writes, keeps live sync running, and a retry succeeds', async () => {
    const s = await setup();
    try {
      const liveSync = new LiveSync(s.src, s.tgt, { dbs: [0] });
      await liveSync.start();
      const app = await s.source.client(0, { connectionName: 'app' });
      await app.set('a', '1');
      await assert.rejects(
        cutover({
          source: s.src,
          liveSync,
          repoint: async () => {
            throw new Error('hook exited with status 3');
          },
        }),
        (err: CutoverError) => {
          assert.ok(err instanceof CutoverError);
          assert.equal(err.phase, 'repointing');
          assert.equal(err.resumed, true);
          assert.match(err.message, /hook exited with status 3/);
          assert.match(err.message, /writes on the source were resumed/);
          return true;
        },
      );
      await assertNotPaused(s.source);
      assert.equal(await app.set('b', '2'), 'OK', 'the application connection was not killed');
      assert.equal(liveSync.status().state, 'following');
      const report = await cutover({ source: s.src, liveSync, repoint: async () => {} });
      assert.equal(await (await s.target.client()).get('b'), '2');
      assert.ok(report.killed.some((c) => c.name === 'app'));
      await assertNotPaused(s.source);
    } finally {
      await s.stop();
    }
  });

  test('a failing or hanging drain resumes writes and never repoints', async () => {
    const s = await setup();
    try {
      let repointed = false;
      const repoint = async () => {
        repointed = true;
      };
      const failing: Drainable = {
        drain: async () => {
          throw new Error('target unreachable');
        },
        stop: async () => undefined,
      };
      await assert.rejects(
        cutover({ source: s.src, liveSync: failing, repoint }),
        (err: CutoverError) =>
          err.phase === 'draining' && err.resumed && /target unreachable/.test(err.message),
      );
      await assertNotPaused(s.source);
      // A drain that does not finish in time: the LiveSync honours its timeout, this fake does too.
      const hanging: Drainable = {
        drain: (options) =>
          new Promise((_, reject) =>
            setTimeout(() => reject(new Error('drain timed out')), options?.timeoutMs),
          ),
        stop: async () => undefined,
      };
      await assert.rejects(
        cutover({
          source: s.src,
          liveSync: hanging,
          pauseTimeoutMs: 400,
          repoint,
        }),
        (err: CutoverError) => err.phase === 'draining' && err.resumed,
      );
      assert.equal(repointed, false);
      await assertNotPaused(s.source);
    } finally {
      await s.stop();
    }
  });
});
