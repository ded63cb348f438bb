// The independent comparison must say "different" for a key on one side only, unless that key is
// about to expire within the TTL tolerance (expiry times may differ by that much).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareSnapshots, type KeySnapshot } from './compare.js';

const hexKey = (k: string) => Buffer.from(k).toString('hex');
const snap = (entries: Array<[string, number]>) =>
  new Map<string, KeySnapshot>(entries.map(([k, pttl]) => [hexKey(k), { type: 'string', pttl, value: 'v' }]));

test('a key on one side only is a difference unless it expires within the tolerance', () => {
  const a = snap([
    ['persistent', -1],
    ['long-ttl', 60_000],
    ['expiring', 200],
  ]);
  assert.deepEqual(compareSnapshots(a, new Map(), 0, { ttlToleranceMs: 1000 }), [
    'db0 persistent: missing on the second server',
    'db0 long-ttl: missing on the second server',
  ]);
  assert.deepEqual(compareSnapshots(new Map(), a, 0, { ttlToleranceMs: 1000 }), [
    'db0 persistent: extra on the second server',
    'db0 long-ttl: extra on the second server',
  ]);
  assert.deepEqual(compareSnapshots(a, new Map(), 0, { ttlToleranceMs: 100 }).length, 3);
});
