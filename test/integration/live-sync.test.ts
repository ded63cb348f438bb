// LiveSync against real redis-server processes: a writer changes the source while live sync
// follows it, and the target must end up equal, key by key.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { globMatcher } from '../../src/engine/live-sync/glob.js';
import { LiveSync, type LiveSyncError, type LiveSyncOptions } from '../../src/engine/live-sync/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { compareServers, compareSnapshots, snapshotDb } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

/** Asserts both servers hold the same keys (type, value, TTL) in these dbs, optionally only matching ones. */
async function assertSameData(source: RedisServer, target: RedisServer, dbs: number[], match?: string) {
  let diffs: string[];
  if (!match) {
    diffs = await compareServers(source, target, { dbs });
  } else {
    const keep = globMatcher(match);
    const only = (m: Map<string, unknown>) => new Map([...m].filter(([k]) => keep(Buffer.from(k, 'hex'))));
    const [a, b] = [await source.client(), await target.client()];
    diffs = [];
    for (const db of dbs) {
      const sa = only(await snapshotDb(a, db)) as Awaited<ReturnType<typeof snapshotDb>>;
      const sb = only(await snapshotDb(b, db)) as Awaited<ReturnType<typeof snapshotDb>>;
      diffs.push(...compareSnapshots(sa, sb, db));
    }
  }
  assert.deepEqual(diffs.slice(0, 20), [], `${diffs.length} differences`);
}

async function dbsize(client: Redis, db: number): Promise<number> {
  await client.select(db);
  return client.dbsize();
}

const NOTIFY_ON = ['notify-keyspace-events KEA'];

async function pair(sourceConfig: string[] = NOTIFY_ON) {
  const source = await startRedis({ configLines: sourceConfig });
  const target = await startRedis();
  return {
    source,
    target,
    src: parseEndpointUrl(source.url, 'source'),
    tgt: parseEndpointUrl(target.url, 'target'),
    async stop() {
      await Promise.all([source.stop(), target.stop()]);
    },
  };
}

function liveSync(
  p: Awaited<ReturnType<typeof pair>>,
  options: Partial<LiveSyncOptions> & Pick<LiveSyncOptions, 'dbs'>,
): LiveSync {
  return new LiveSync(p.src, p.tgt, options);
}

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

/** Deterministic PRNG so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Binary key names: a NUL, a high byte, and invalid UTF-8 in every one. */
const binKey = (i: number) => Buffer.concat([Buffer.from([0x00, 0xff, 0xc3]), Buffer.from(`k${i}`)]);

/**
 * Random writes of every type, plus deletes, short and long TTLs, PERSIST, RENAME, MOVE, COPY and
 * type changes, over a small key space so keys are hit many times.
 */
async function randomWrites(client: Redis, dbs: number[], ops: number, seed: number): Promise<void> {
  const rnd = prng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const val = () => Buffer.from([Math.floor(rnd() * 256), 0x00, Math.floor(rnd() * 256)]);
  for (let i = 0; i < ops; i++) {
    const db = pick(dbs);
    const k = binKey(Math.floor(rnd() * 40));
    const k2 = binKey(Math.floor(rnd() * 40));
    const p = client.pipeline().select(db);
    switch (Math.floor(rnd() * 22)) {
      case 0:
        p.set(k, val());
        break;
      case 1:
        p.append(k, val());
        break;
      case 2:
        p.lpush(k, val(), val());
        break;
      case 3:
        p.rpop(k);
        break;
      case 4:
        p.sadd(k, val(), val());
        break;
      case 5:
        p.srem(k, val());
        break;
      case 6:
        p.hset(k, val(), val());
        break;
      case 7:
        p.hdel(k, val());
        break;
      case 8:
        p.zadd(k, Math.floor(rnd() * 100), val());
        break;
      case 9:
        p.zincrby(k, 1, val());
        break;
      case 10:
        p.xadd(k, 'MAXLEN', '~', 20, '*', val(), val());
        break;
      case 11:
        p.del(k);
        break;
      case 12:
        p.pexpire(k, 20 + Math.floor(rnd() * 80));
        break;
      case 13:
        p.expire(k, 600);
        break;
      case 14:
        p.persist(k);
        break;
      case 15:
        p.rename(k, k2);
        break;
      case 16:
        p.move(k, pick(dbs));
        break;
      case 17:
        p.call('COPY', k, k2, 'DB', pick(dbs), 'REPLACE');
        break;
      case 18:
        p.set(k, val(), 'PX', 30 + Math.floor(rnd() * 50));
        break;
      case 19:
        p.sinterstore(k, k2, k);
        break;
      case 20:
        p.lmove(k, k2, 'LEFT', 'RIGHT');
        break;
      default:
        p.unlink(k);
    }
    await p.exec(); // WRONGTYPE and the like come back as per-command errors and are ignored
    // A group on some streams: DUMP carries consumer groups.
    if (rnd() < 0.02) await client.xgroup('CREATE', k, `g${i}`, '$', 'MKSTREAM').catch(() => undefined);
  }
}

describe('LiveSync', () => {
  test('applies every kind of change of every type across two dbs with binary keys while a writer runs', async () => {
    const p = await pair();
    try {
      const writer = await p.source.client();
      // Some data before live sync starts, copied by the initial reconcile pass.
      await randomWrites(writer, [0, 2], 300, 1);
      const statuses: unknown[] = [];
      const ls = liveSync(p, {
        dbs: [0, 2],
        reconcileOnStart: true,
        statusIntervalMs: 50,
        onStatus: (s) => statuses.push(s),
      });
      await ls.start();
      // Two writers, and writes to db 1, which is not followed.
      await Promise.all([
        randomWrites(writer, [0, 2], 1500, 2),
        randomWrites(await p.source.client(), [0, 1, 2], 1500, 3),
      ]);
      await new Promise((r) => setTimeout(r, 150)); // let the short TTLs run out on both sides
      const drained = await ls.drain({ timeoutMs: 10_000 });
      assert.ok(drained.durationMs >= 0);
      await assertSameData(p.source, p.target, [0, 2]);
      assert.ok((await dbsize(await p.source.client(), 1)) > 0, 'the writer wrote to db 1');
      assert.equal(await dbsize(await p.target.client(), 1), 0, 'db 1 was not selected');
      const status = ls.status();
      assert.ok(status.eventsReceived > 1000, `events: ${status.eventsReceived}`);
      assert.ok(status.keysApplied > 0);
      assert.equal(status.pendingKeys, 0);
      assert.equal(status.rescans, 1);
      assert.ok(statuses.length > 0, 'onStatus was called');
      const report = await ls.stop();
      assert.equal(report.state, 'stopped');
      assert.equal(report.consistent, true);
      // All our connections (live sync's and the copy engine's) are closed.
      await waitFor('our connections to close', async () => {
        const list = (await writer.call('CLIENT', 'LIST')) as string;
        return !/name=migration-buddy:/.test(list);
      });
    } finally {
      await p.stop();
    }
  });

  test('only keys matching the pattern are applied', async () => {
    const p = await pair();
    try {
      const ls = liveSync(p, { dbs: [0], match: 'keep:*' });
      await ls.start();
      const w = await p.source.client();
      for (let i = 0; i < 50; i++) await w.set(`keep:${i}`, i).then(() => w.set(`drop:${i}`, i));
      await w.del('keep:0', 'drop:0');
      await ls.drain({ timeoutMs: 5000 });
      const t = await p.target.client();
      assert.equal(await t.dbsize(), 49);
      assert.deepEqual(await t.keys('drop:*'), []);
      await assertSameData(p.source, p.target, [0], 'keep:*');
      await ls.stop();
    } finally {
      await p.stop();
    }
  });

  test('with only keyspace (K) notifications on, the keyspace channel is followed', async () => {
    const p = await pair(['notify-keyspace-events Kg$lshzxet']);
    try {
      const ls = liveSync(p, { dbs: [0, 1] });
      await ls.start();
      assert.equal(ls.status().channel, 'keyspace');
      const w = await p.source.client();
      const key = Buffer.concat([Buffer.from('a__:'), Buffer.from([0xff, 0x00])]);
      await w.set(key, 'v');
      await w.pipeline().select(1).hset('h', 'f', '1').rename('h', 'h2').exec();
      await ls.drain({ timeoutMs: 5000 });
      await assertSameData(p.source, p.target, [0, 1]);
      assert.equal(await dbsize(await p.target.client(), 1), 1);
      await ls.stop();
    } finally {
      await p.stop();
    }
  });

  test('missing notify-keyspace-events fails with a clear message; enableNotifications sets and restores it', async () => {
    const p = await pair([]);
    try {
      await assert.rejects(liveSync(p, { dbs: [0] }).start(), (err: Error) => {
        assert.equal(err.name, 'LiveSyncError');
        assert.match(err.message, /notify-keyspace-events on source/);
        assert.match(err.message, /"" \(off\)/);
        assert.match(err.message, /KEA/);
        assert.match(err.message, /parameter group/);
        return true;
      });
      const admin = await p.source.client();
      const ls = liveSync(p, { dbs: [0], enableNotifications: true });
      await ls.start();
      assert.match(((await admin.config('GET', 'notify-keyspace-events')) as string[])[1]!, /E/);
      await admin.set('a', '1');
      await ls.drain({ timeoutMs: 5000 });
      assert.equal(await (await p.target.client()).get('a'), '1');
      const report = await ls.stop();
      assert.equal(report.restoredNotifyConfig, '');
      assert.equal(((await admin.config('GET', 'notify-keyspace-events')) as string[])[1], '');
    } finally {
      await p.stop();
    }
  });

  test('without CONFIG a canary write checks the notifications', async () => {
    const on = await pair(['notify-keyspace-events KEA', 'rename-command CONFIG ""']);
    try {
      const ls = liveSync(on, { dbs: [0] });
      await ls.start();
      const w = await on.source.client();
      await w.set('x', '1');
      await ls.drain({ timeoutMs: 5000 });
      assert.equal(await (await on.target.client()).get('x'), '1');
      await ls.stop();
      assert.deepEqual(await w.keys('migration-buddy:canary:*'), [], 'canary keys are removed');
    } finally {
      await on.stop();
    }
    const off = await pair(['notify-keyspace-events Ex', 'rename-command CONFIG ""']);
    try {
      await assert.rejects(liveSync(off, { dbs: [0] }).start(), (err: Error) => {
        assert.match(err.message, /unreadable: CONFIG GET is refused/);
        assert.match(err.message, /missing: \$lshztg/);
        return true;
      });
    } finally {
      await off.stop();
    }
  });

  test('a subscriber disconnect triggers a rescan that also removes keys deleted during the gap', async () => {
    const p = await pair();
    try {
      const ls = liveSync(p, { dbs: [0], keyspaceCheckIntervalMs: 0 });
      await ls.start();
      const w = await p.source.client();
      for (let i = 0; i < 30; i++) await w.set(`k${i}`, i);
      await ls.drain({ timeoutMs: 5000 });
      const t = await p.target.client();
      assert.equal(await t.dbsize(), 30);
      // Same connection: the server kills the subscriber before it runs the writes, so their
      // notifications go nowhere.
      const gap = Array.from({ length: 10 }, (_, i) => `k${i}`);
      await w.pipeline().call('CLIENT', 'KILL', 'TYPE', 'pubsub').del(gap).set('k20', 'changed').exec();
      await waitFor('the reconnect and the rescan', () => ls.status().rescans >= 1);
      await ls.drain({ timeoutMs: 5000 });
      await assertSameData(p.source, p.target, [0]);
      const s = ls.status();
      assert.ok(s.reconnects >= 1);
      assert.ok(s.extrasDeleted >= 10, `extras deleted: ${s.extrasDeleted}`);
      assert.match(s.lastRescanReason ?? '', /disconnected/);
      await ls.stop();
    } finally {
      await p.stop();
    }
  });

  test('drain is a barrier: every acknowledged INCR before the pause is on the target', async () => {
    const p = await pair();
    try {
      const ls = liveSync(p, { dbs: [0] });
      await ls.start();
      const writer = await p.source.client();
      const admin = await p.source.client();
      const counters = Array.from({ length: 20_000 }, (_, i) => `c${i}`);
      const acked = new Map<string, number>();
      let stop = false;
      // Bursts of acknowledged INCRs: at the pause, thousands of notifications are still on their
      // way to the subscriber, so only a real barrier makes the target catch up with the source.
      const loop = (async () => {
        while (!stop) {
          const pipeline = writer.pipeline();
          for (const c of counters) pipeline.incr(c);
          const replies = (await pipeline.exec()) ?? [];
          replies.forEach(([, n], i) => {
            acked.set(counters[i]!, n as number);
          });
        }
      })();
      await waitFor('a few bursts', () => (acked.get('c0') ?? 0) >= 3);
      await admin.call('CLIENT', 'PAUSE', '10000', 'WRITE');
      try {
        await ls.drain({ timeoutMs: 5000 });
        const reader = await p.source.client();
        const t = await p.target.client();
        const onSource = (await reader.mget(counters)).map(Number);
        const onTarget = (await t.mget(counters)).map(Number);
        counters.forEach((c, i) => {
          assert.ok(onSource[i]! >= (acked.get(c) ?? 0));
        });
        assert.deepEqual(onTarget, onSource);
      } finally {
        await admin.call('CLIENT', 'UNPAUSE');
        stop = true;
        await loop;
      }
      await ls.stop();
    } finally {
      await p.stop();
    }
  });

  test('an overflowing dirty set falls back to a reconcile pass', async () => {
    const p = await pair();
    try {
      const ls = liveSync(p, { dbs: [0], holdApply: true, maxDirtyKeys: 10 });
      await ls.start();
      const w = await p.source.client();
      const t = await p.target.client();
      await t.set('stale', 'gone on the source');
      for (let i = 0; i < 50; i++) await w.set(`k${i}`, i);
      await waitFor('the overflow', () => ls.status().dirtyOverflows >= 1);
      ls.startApplying();
      await ls.drain({ timeoutMs: 5000 });
      await assertSameData(p.source, p.target, [0]);
      assert.equal(ls.status().rescans, 1);
      await ls.stop();
    } finally {
      await p.stop();
    }
  });

  // A flush of most of a bigger db fails live sync instead (test/integration/faults-live-sync.test.ts).
  test('FLUSHDB of a small db (no notifications) is detected from the key counts and reconciled', async () => {
    const p = await pair();
    try {
      const ls = liveSync(p, { dbs: [0], keyspaceCheckIntervalMs: 50 });
      await ls.start();
      const w = await p.source.client();
      for (let i = 0; i < 10; i++) await w.set(`k${i}`, i);
      await ls.drain({ timeoutMs: 5000 });
      const t = await p.target.client();
      assert.equal(await t.dbsize(), 10);
      await new Promise((r) => setTimeout(r, 150)); // a keyspace check sees the 10 keys
      await w.flushdb();
      await waitFor('the target to be emptied', async () => (await t.dbsize()) === 0);
      assert.ok(ls.status().silentDropsDetected >= 1);
      assert.match(ls.status().lastRescanReason ?? '', /FLUSHDB/);
      await ls.stop();
    } finally {
      await p.stop();
    }
  });

  test('losing the source for good is reported through onError and drain rejects', async () => {
    const p = await pair();
    try {
      let reported: LiveSyncError | undefined;
      const ls = liveSync(p, {
        dbs: [0],
        maxReconnects: 2,
        onError: (err) => {
          reported = err;
        },
      });
      await ls.start();
      p.source.kill();
      await waitFor('onError', () => reported !== undefined);
      assert.match(reported!.message, /lost the keyspace-notification subscription/);
      assert.match(reported!.message, /reconcile/);
      assert.equal(ls.status().state, 'failed');
      await assert.rejects(ls.drain(), /lost the keyspace-notification subscription/);
      const report = await ls.stop();
      assert.equal(report.consistent, false);
    } finally {
      await p.stop();
    }
  });

  test('an AbortSignal stops live sync and closes its connections', async () => {
    const p = await pair();
    try {
      const controller = new AbortController();
      const ls = liveSync(p, { dbs: [0], signal: controller.signal });
      await ls.start();
      const admin = await p.source.client();
      assert.match(
        (await admin.call('CLIENT', 'LIST')) as string,
        /name=migration-buddy:live-sync-subscriber/,
      );
      controller.abort();
      assert.equal(ls.status().state, 'aborted');
      await waitFor('connections closed', async () => {
        const list = (await admin.call('CLIENT', 'LIST')) as string;
        return !/name=migration-buddy:live-sync/.test(list);
      });
      await assert.rejects(ls.drain(), /after stop|aborted/);
    } finally {
      await p.stop();
    }
  });

  test('glob matching agrees with the server SCAN MATCH on binary keys', async () => {
    const server = await startRedis();
    try {
      const c = await server.client();
      const rnd = prng(7);
      const alphabet = [0x61, 0x62, 0x2a, 0x3f, 0x5b, 0x5d, 0x5e, 0x2d, 0x5c, 0x00, 0xe9, 0xff];
      const keys: Buffer[] = [];
      for (let i = 0; i < 300; i++) {
        const len = 1 + Math.floor(rnd() * 6);
        keys.push(
          Buffer.from(Array.from({ length: len }, () => alphabet[Math.floor(rnd() * alphabet.length)]!)),
        );
      }
      const p = c.pipeline();
      for (const k of keys) p.set(k, '1');
      await p.exec();
      const patterns = [
        'a*',
        '*b',
        '?',
        '[ab]*',
        '[^a]?*',
        '[a-b]*',
        '\\**',
        'a[',
        '[\x00-a]*',
        '*\xe9*',
        '[]*',
      ];
      for (const pattern of patterns) {
        const bytes = Buffer.from(pattern, 'latin1');
        const [, serverKeys] = (await c.callBuffer('SCAN', '0', 'MATCH', bytes, 'COUNT', 10_000)) as [
          Buffer,
          Buffer[],
        ];
        const expected = serverKeys.map((k) => k.toString('hex')).sort();
        const matcher = globMatcher(bytes);
        const ours = [...new Set(keys.map((k) => k.toString('hex')))]
          .filter((h) => matcher(Buffer.from(h, 'hex')))
          .sort();
        assert.deepEqual(ours, expected, `pattern ${JSON.stringify(pattern)}`);
      }
    } finally {
      await server.stop();
    }
  });
});
