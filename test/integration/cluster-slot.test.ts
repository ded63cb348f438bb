// keySlot against the server's own CLUSTER KEYSLOT on random binary keys, with and without hash tags.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { keySlot } from '../../src/engine/cluster/slot.js';
import { startRedis } from '../harness/redis-server.js';

test('keySlot agrees with CLUSTER KEYSLOT on 3,000 random binary keys', async () => {
  const server = await startRedis({ configLines: ['cluster-enabled yes'] });
  try {
    const c = await server.client();
    const keys: Buffer[] = [];
    for (let i = 0; i < 3000; i++) {
      const body = randomBytes(1 + (i % 40));
      // A third carry braces: tags, empty tags, unclosed ones.
      if (i % 3 === 0)
        keys.push(Buffer.concat([body.subarray(0, 3), Buffer.from('{'), body, Buffer.from('}x')]));
      else if (i % 3 === 1) keys.push(Buffer.concat([Buffer.from(i % 2 ? '{}' : '{'), body]));
      else keys.push(body);
    }
    const pipeline = c.pipeline();
    for (const k of keys) pipeline.call('CLUSTER', 'KEYSLOT', k);
    const slots = ((await pipeline.exec()) ?? []).map(([err, v]) => {
      assert.ifError(err);
      return Number(v);
    });
    const wrong = keys.filter((k, i) => keySlot(k) !== slots[i]);
    assert.deepEqual(
      wrong.map((k) => k.toString('hex')),
      [],
    );
  } finally {
    await server.stop();
  }
});
