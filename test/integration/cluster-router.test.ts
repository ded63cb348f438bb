// ClusterRouter against a real 3-primary cluster: commands land on the slot's owner, a MOVED after
// a resharding updates the map, an ASK during one goes to the importing node with ASKING.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ClusterRouter } from '../../src/engine/cluster/router.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { type RedisCluster, startCluster } from '../harness/redis-cluster.js';

describe('ClusterRouter', () => {
  let cluster: RedisCluster;
  before(async () => {
    cluster = await startCluster({ primaries: 3, password: 'router-pw' });
  });
  after(() => cluster?.stop());

  /** The value of a key on the primary that owns its slot, read with a plain client. */
  async function onOwner(key: string): Promise<{ value: string | null; owner: string }> {
    const owner = await cluster.nodeOfSlot(await cluster.keySlot(key));
    const c = await owner.server.client();
    return { value: await c.get(key), owner: owner.id };
  }

  test('each command goes to the owner of its key’s slot, pipelined per node', async () => {
    const router = await ClusterRouter.open(parseEndpointUrl(cluster.url));
    try {
      assert.equal(router.nodes().length, 3);
      const keys = Array.from({ length: 300 }, (_, i) => `r:${i}`);
      const replies = await router.exec(
        keys.map((k) => ({ key: Buffer.from(k), command: ['SET', k, `v-${k}`] })),
      );
      assert.deepEqual(new Set(replies), new Set(['OK']));
      for (const k of keys.slice(0, 30)) assert.equal((await onOwner(k)).value, `v-${k}`);
      let total = 0;
      for (const p of cluster.primaries) {
        const n = await (await p.server.client()).dbsize();
        assert.ok(n > 0, 'every primary got keys');
        total += n;
      }
      assert.equal(total, 300);
      assert.equal(router.redirects.moved + router.redirects.ask, 0);
    } finally {
      await router.close();
    }
  });

  test('MOVED after a resharding: the command follows, the map is read again', async () => {
    const router = await ClusterRouter.open(parseEndpointUrl(cluster.url));
    try {
      const key = 'moved:key';
      const slot = await cluster.keySlot(key);
      const from = await cluster.nodeOfSlot(slot);
      const to = cluster.primaries.find((p) => p.id !== from.id)!;
      await cluster.reshard([slot], to);
      const [reply] = await router.exec([{ key: Buffer.from(key), command: ['SET', key, 'after-move'] }]);
      assert.equal(reply, 'OK');
      assert.ok(router.redirects.moved >= 1);
      assert.deepEqual(await onOwner(key), { value: 'after-move', owner: to.id });
    } finally {
      await router.close();
    }
  });

  test('ASK while a slot is half moved: ASKING + the command on the importing node', async () => {
    const router = await ClusterRouter.open(parseEndpointUrl(cluster.url));
    try {
      const key = 'ask:key';
      const slot = await cluster.keySlot(key);
      const from = await cluster.nodeOfSlot(slot);
      const to = cluster.primaries.find((p) => p.id !== from.id)!;
      let reply: unknown;
      await cluster.reshard([slot], to, {
        midway: async () => {
          [reply] = await router.exec([{ key: Buffer.from(key), command: ['SET', key, 'during-move'] }]);
        },
      });
      assert.equal(reply, 'OK');
      assert.equal(router.redirects.ask, 1);
      assert.deepEqual(await onOwner(key), { value: 'during-move', owner: to.id });
    } finally {
      await router.close();
    }
  });
});
