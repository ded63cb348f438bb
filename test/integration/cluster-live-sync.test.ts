// Live sync across topologies (LiveSyncAcross) and the write pause on every node, on real servers:
// a bulk copy across topologies while live sync collects, then applying under a writer that goes
// through a cluster-aware client; under the pause on every source primary and the drain, the
// independent comparison (compare-cluster.ts, plain per-node reads) must find both sides equal.
// Also: a notification gap on one node (its subscriber killed) is reconciled on that node's keys
// only, a resharding on the source fails live sync for good, and a pause that one node cannot
// take (stopped process) is lifted on all of them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { copyAcrossTopologies } from '../../src/engine/cluster/copy-across.js';
import {
  describeClientsByNode,
  listClientsByNode,
  PauseNotEverywhereError,
  pauseEveryNode,
  resumeEveryNode,
} from '../../src/engine/cutover/index.js';
import { LiveSyncAcross, type LiveSyncError } from '../../src/engine/live-sync/index.js';
import { nodeAddress } from '../../src/probe/cluster-topology.js';
import { connect } from '../../src/redis/connect.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { nodeEndpoint } from '../../src/redis/node-endpoint.js';
import { type ComparedSide, compareSides } from '../harness/compare-cluster.js';
import { type RedisCluster, startCluster } from '../harness/redis-cluster.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

interface Writer {
  stop(): Promise<number>;
}

/** Sets, deletes, expiring keys and hash-tagged families, as fast as one client can, until stopped. */
function startWriter(
  client: Pick<Redis, 'set' | 'del' | 'hset' | 'rpush' | 'pexpire'>,
  prefix: string,
): Writer {
  let running = true;
  let acked = 0;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const k = `${prefix}w:${i % 300}`;
      await client.set(k, `v${i}`);
      if (i % 7 === 0) await client.del(`${prefix}w:${(i + 150) % 300}`);
      if (i % 11 === 0) await client.hset(`{${prefix}fam${i % 5}}.h`, `f${i % 13}`, `x${i}`);
      if (i % 13 === 0) await client.rpush(`{${prefix}fam${i % 5}}.l`, `e${i}`);
      if (i % 17 === 0) await client.pexpire(k, 600_000);
      acked++;
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return acked;
    },
  };
}

async function fill(c: Pick<Redis, 'set' | 'hset' | 'sadd'>, prefix: string, n = 300): Promise<void> {
  for (let i = 0; i < n; i++) {
    if (i % 5 === 0) await c.set(`${prefix}k:${i}`, `v${i}`, 'PX', 600_000);
    else await c.set(`${prefix}k:${i}`, `v${i}`);
  }
  for (let i = 0; i < 20; i++) await c.hset(`{${prefix}user${i % 4}}.p${i}`, 'n', `${i}`);
  await c.sadd(`${prefix}set`, 'a', 'b', Buffer.from([0xff, 0x00, 0x01]));
}

/** The source's primaries (or the one server) as pause targets, each on its own connection. */
async function pauseTargets(side: RedisCluster | RedisServer, url: string) {
  const endpoint = parseEndpointUrl(url, 'source');
  const servers = 'primaries' in side ? side.primaries.map((p) => p.server) : [side];
  return Promise.all(
    servers.map(async (s) => ({
      address: nodeAddress(s),
      conn: await connect(nodeEndpoint(endpoint, s.host, s.port), { role: 'test-pause' }),
    })),
  );
}

/**
 * Bulk copy while live sync holds, apply under the writer, then the cutover barrier: pause every
 * source node, drain, compare (the writer is blocked by the pause: the source holds exactly the
 * acknowledged writes), lift the pause. Returns the pause as the engine measured it.
 */
async function migrateUnderWrites(
  source: RedisCluster | RedisServer,
  target: ComparedSide,
  writerClient: Pick<Redis, 'set' | 'del' | 'hset' | 'rpush' | 'pexpire'>,
  prefix: string,
): Promise<{ pausedMs: number; drainMs: number; acked: number }> {
  const src = parseEndpointUrl(source.url, 'source');
  const tgt = parseEndpointUrl('primaries' in target ? target.url : target.url, 'target');
  const errors: LiveSyncError[] = [];
  const ls = new LiveSyncAcross(src, tgt, {
    holdApply: true,
    enableNotifications: true,
    keyspaceCheckIntervalMs: 500,
    onError: (e) => errors.push(e),
  });
  await ls.start();
  const writer = startWriter(writerClient, prefix);
  await copyAcrossTopologies(src, tgt, { replace: true, batchSize: 64 });
  ls.startApplying();
  await new Promise((r) => setTimeout(r, 800));
  const nodes = await pauseTargets(source, source.url);
  try {
    const paused = await pauseEveryNode(nodes, { timeoutMs: 10_000 });
    const drained = await ls.drain({ timeoutMs: 10_000 });
    // What a cutover would hold writes for up to the repoint: every pause in force and drained.
    const barrierMs = performance.now() - Math.min(...paused.nodes.map((n) => n.pause.startedMono));
    const diffs = await compareSides(source, target);
    assert.deepEqual(diffs.slice(0, 10), [], `${diffs.length} differences under the pause`);
    const left = describeClientsByNode(await listClientsByNode(nodes));
    assert.notEqual(left, '', 'the writer is still connected to the source: the drain check lists it');
    const resumed = await resumeEveryNode(paused);
    assert.deepEqual(resumed.failed, []);
    const acked = await writer.stop();
    const report = await ls.stop();
    assert.deepEqual(errors, []);
    assert.equal(report.consistent, true);
    assert.ok(report.keysApplied > 0, 'changes were applied');
    assert.deepEqual(await compareSides(source, target), [], 'equal after the writer stopped');
    console.log(
      `# ${prefix} paused and drained in ${barrierMs.toFixed(1)} ms (drain ${drained.durationMs} ms); ` +
        `pause lifted after ${resumed.pausedMs.toFixed(1)} ms including the test's comparison (` +
        `${nodes.length} source nodes, ${acked} writes acknowledged)`,
    );
    return { pausedMs: resumed.pausedMs, drainMs: drained.durationMs, acked };
  } finally {
    for (const n of nodes) n.conn.disconnect();
  }
}

async function flush(side: RedisCluster | RedisServer): Promise<void> {
  if ('primaries' in side) for (const p of side.primaries) await (await p.server.client()).flushall();
  else await (await side.client()).flushall();
}

describe('live sync across topologies', () => {
  let a: RedisCluster;
  let b: RedisCluster;
  let single: RedisServer;

  before(async () => {
    [a, b, single] = await Promise.all([
      startCluster({ primaries: 3 }),
      startCluster({ primaries: 3 }),
      startRedis(),
    ]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop(), single?.stop()]);
  });

  test('cluster -> cluster under a cluster-aware writer: equal under the pause on every primary', async () => {
    const client = await a.client();
    await fill(client as unknown as Redis, 'cc:');
    const { acked } = await migrateUnderWrites(a, b, client as unknown as Redis, 'cc:');
    assert.ok(acked > 0);
    // notify-keyspace-events is put back on every source primary.
    for (const p of a.primaries) {
      const [, flags] = (await (await p.server.client()).config('GET', 'notify-keyspace-events')) as string[];
      assert.equal(flags, '');
    }
    await Promise.all([flush(a), flush(b)]);
  });

  test('standalone -> cluster under writes: equal, every key on the node owning its slot', async () => {
    const client = await single.client();
    await fill(client, 'sc:');
    await migrateUnderWrites(single, b, client, 'sc:');
    await Promise.all([flush(single), flush(b)]);
  });

  test('cluster -> standalone under writes: equal in one db', async () => {
    const client = await a.client();
    await fill(client as unknown as Redis, 'cs:');
    await migrateUnderWrites(a, single, client as unknown as Redis, 'cs:');
    await Promise.all([flush(a), flush(single)]);
  });

  test('a gap on one source node is reconciled for that node: missed changes copied, extras deleted', async () => {
    const client = await a.client();
    await fill(client as unknown as Redis, 'gap:', 60);
    const src = parseEndpointUrl(a.url, 'source');
    const tgt = parseEndpointUrl(b.url, 'target');
    await copyAcrossTopologies(src, tgt, { replace: true });
    const ls = new LiveSyncAcross(src, tgt, { enableNotifications: true, keyspaceCheckIntervalMs: 0 });
    await ls.start();
    // Keys the source lacks on the target, in every slot range: only the reconcile pass finds them.
    const tc = await b.client();
    for (let i = 0; i < 30; i++) await tc.set(`gap:extra:${i}`, 'x');
    const node = a.primaries[1]!.server;
    const admin = await node.client();
    // The subscriber is dropped (and reconnects): whatever happens meanwhile is not notified to it.
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    for (let i = 0; i < 60; i++) await client.set(`gap:k:${i}`, `changed-${i}`);
    await waitFor(() => ls.status().rescans >= 1 && !ls.status().rescanPending, 15_000);
    const drained = await ls.drain({ timeoutMs: 10_000 });
    assert.ok(drained.durationMs >= 0);
    // The pass of the node that had the gap deleted the extras of its own slots only.
    let extrasOnNode = 0;
    for (let i = 0; i < 30; i++) {
      const owner = await a.nodeOfSlot(await a.keySlot(`gap:extra:${i}`));
      if (owner.server.port === node.port) extrasOnNode++;
    }
    const report = await ls.stop();
    assert.equal(report.consistent, true);
    assert.equal(report.rescans, 1, 'only the node whose subscriber dropped ran a pass');
    assert.equal(report.extrasDeleted, extrasOnNode);
    assert.ok(extrasOnNode > 0);
    // The other nodes' extras are still there (a pass on them would delete them).
    const left = await Promise.all(Array.from({ length: 30 }, (_, i) => tc.exists(`gap:extra:${i}`)));
    assert.equal(left.filter((n) => n === 1).length, 30 - report.extrasDeleted);
    for (let i = 0; i < 30; i++) await tc.del(`gap:extra:${i}`);
    assert.deepEqual(await compareSides(a, b), []);
    await Promise.all([flush(a), flush(b)]);
  });

  test('the write pause is all or nothing: one stopped primary, every pause lifted', async () => {
    const nodes = await pauseTargets(a, a.url);
    const stopped = a.primaries[2]!.server;
    process.kill(stopped.pid, 'SIGSTOP');
    try {
      await assert.rejects(
        pauseEveryNode(nodes, { timeoutMs: 20_000, answerWithinMs: 500 }),
        (err: unknown) => {
          assert.ok(err instanceof PauseNotEverywhereError);
          assert.deepEqual(
            err.failed.map((f) => f.address),
            [nodeAddress(stopped)],
          );
          assert.match(err.message, /nothing was repointed/);
          return true;
        },
      );
      // The other primaries take writes again at once (their pause was lifted, not left to expire).
      for (const p of a.primaries.slice(0, 2)) {
        const c = await p.server.client();
        let key = '';
        for (let i = 0; !key; i++) {
          if ((await a.nodeOfSlot(await a.keySlot(`free${i}`))).id === p.id) key = `free${i}`;
        }
        const started = performance.now();
        await c.set(key, '1');
        await c.del(key);
        assert.ok(
          performance.now() - started < 5_000,
          'a write on a node whose pause was lifted is not held',
        );
      }
    } finally {
      process.kill(stopped.pid, 'SIGCONT');
      for (const n of nodes) n.conn.disconnect();
    }
  });

  test('CONFIG refused on every source primary: the canary proves notifications per node, in its own slots', async () => {
    const src = parseEndpointUrl(a.url, 'source');
    const tgt = parseEndpointUrl(b.url, 'target');
    const admins = await Promise.all(a.primaries.map((p) => p.server.client()));
    for (const c of admins) await c.config('SET', 'notify-keyspace-events', 'KEA');
    for (const c of admins) await c.call('ACL', 'SETUSER', 'default', '-config');
    try {
      const ls = new LiveSyncAcross(src, tgt, { keyspaceCheckIntervalMs: 0 });
      await ls.start();
      const client = await a.client();
      for (let i = 0; i < 30; i++) await client.set(`canary-test:${i}`, `${i}`);
      await waitFor(() => ls.status().pendingKeys === 0 && ls.status().keysApplied >= 30, 10_000);
      await ls.drain({ timeoutMs: 5000 });
      const report = await ls.stop();
      assert.equal(report.consistent, true);
      // The canary keys are gone again from every node.
      for (const c of admins) assert.deepEqual(await c.keys('migration-buddy:canary:*'), []);
      assert.deepEqual(await compareSides(a, b), []);
    } finally {
      for (const c of admins) await c.call('ACL', 'SETUSER', 'default', '+config');
      for (const c of admins) await c.config('SET', 'notify-keyspace-events', '');
      await Promise.all([flush(a), flush(b)]);
    }
  });

  test('a resharding on the source fails live sync for good, naming the layout change', async () => {
    const src = parseEndpointUrl(a.url, 'source');
    const tgt = parseEndpointUrl(b.url, 'target');
    const errors: LiveSyncError[] = [];
    const ls = new LiveSyncAcross(src, tgt, {
      enableNotifications: true,
      layoutCheckIntervalMs: 200,
      onError: (e) => errors.push(e),
    });
    await ls.start();
    await a.reshard([0], a.primaries[1]!);
    await waitFor(() => errors.length > 0, 10_000);
    assert.match(errors[0]!.message, /slot layout of the source cluster .* changed/);
    assert.equal(errors[0]!.final, true);
    await assert.rejects(ls.drain({ timeoutMs: 1000 }), /slot layout/);
    await ls.stop();
    await a.reshard([0], a.primaries[0]!);
  });
});

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
