// The follower's write pause over every primary of a source cluster (PauseLease with nodes): held
// on each past several CLIENT PAUSE timeouts by the renewals, lifted on each at once; a node that
// refuses the pause leaves none paused. Writes per node go through a plain client of that node.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { nodeAddress } from '../../src/probe/cluster-topology.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { PauseLease } from '../../src/strategies/live-phase/pause-lease.js';
import { openSourceNodes, type SourceNodes } from '../../src/strategies/live-phase/source-nodes.js';
import { createLogger } from '../../src/util/logger.js';
import { type RedisCluster, startCluster } from '../harness/redis-cluster.js';

async function within<T>(p: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([p, sleep(ms).then(() => 'pending' as const)]);
}

describe('the write pause on every primary of a source cluster', () => {
  let cluster: RedisCluster;
  let nodes: SourceNodes;
  /** A key per primary (in one of its slots) and a plain client of that primary. */
  let writers: { key: string; client: Redis }[];

  before(async () => {
    cluster = await startCluster({ primaries: 3 });
    nodes = await openSourceNodes(parseEndpointUrl(cluster.url, 'src'), { role: 'test', maxReconnects: 2 });
    writers = [];
    for (const p of cluster.primaries) {
      let key = '';
      for (let i = 0; !key; i++)
        if ((await cluster.nodeOfSlot(await cluster.keySlot(`w${i}`))).id === p.id) key = `w${i}`;
      writers.push({ key, client: await p.server.client() });
    }
  });
  after(async () => {
    nodes?.disconnect();
    await cluster?.stop();
  });

  const lease = (timeoutMs: number, warnings: string[]) =>
    new PauseLease({
      connection: nodes.admin,
      nodes: nodes.all,
      source: parseEndpointUrl(cluster.url, 'src'),
      pause: { method: 'client-pause', timeoutMs },
      warn: (m) => warnings.push(m),
      logger: createLogger({ level: 'silent' }),
    });

  it('opens every primary; renewals hold writes on each past the timeout; lifting frees them all', async () => {
    assert.equal(nodes.cluster, true);
    assert.deepEqual(
      nodes.all.map((n) => n.address).sort(),
      cluster.primaries.map((p) => nodeAddress(p.server)).sort(),
    );
    const warnings: string[] = [];
    const l = lease(900, warnings);
    await l.take();
    const held = writers.map((w) => w.client.set(w.key, 'during'));
    await sleep(2500);
    for (const h of held) assert.equal(await within(h, 50), 'pending', 'a write waits on every primary');
    const pausedMs = await l.lift();
    for (const h of held) assert.equal(await within(h, 3000), 'OK');
    assert.ok(pausedMs >= 2500, `measured ${pausedMs} ms`);
    assert.deepEqual(warnings, []);
  });

  it('one primary refusing CLIENT PAUSE: the take fails naming it, and no primary is paused', async () => {
    const refusing = writers[2]!.client;
    await refusing.call('ACL', 'SETUSER', 'default', '-client|pause');
    try {
      const l = lease(20_000, []);
      await assert.rejects(l.take(), /could not be paused on every source node: .*NOPERM/);
      assert.equal(l.paused, false);
      for (const w of writers) assert.equal(await within(w.client.set(w.key, 'after'), 2000), 'OK');
    } finally {
      await refusing.call('ACL', 'SETUSER', 'default', '+client|pause');
    }
  });
});
