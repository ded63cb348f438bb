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

test('hash field TTLs: one side only, apart by more than the tolerance, or impossible on the other', () => {
  const f = (name: string) => Buffer.from(name).toString('hex');
  const hash = (fieldTtls?: Record<string, number>): Map<string, KeySnapshot> =>
    new Map([[hexKey('h'), { type: 'hash', pttl: -1, value: ['x'], ...(fieldTtls ? { fieldTtls } : {}) }]]);
  const opts = { ttlToleranceMs: 1000 };
  assert.deepEqual(compareSnapshots(hash({ [f('a')]: 5000 }), hash({ [f('a')]: 5500 }), 0, opts), []);
  assert.deepEqual(compareSnapshots(hash({ [f('a')]: 5000 }), hash({ [f('a')]: 9000 }), 0, opts), [
    'db0 h: field a ttl 5000 vs 9000',
  ]);
  assert.deepEqual(compareSnapshots(hash({ [f('a')]: 5000 }), hash({}), 0, opts), [
    'db0 h: field a ttl 5000 vs none',
  ]);
  assert.deepEqual(compareSnapshots(hash({ [f('a')]: 5000, [f('b')]: 1 }), hash(), 0, opts), [
    'db0 h: 2 field TTLs on the first server, none possible on the other',
  ]);
  assert.deepEqual(compareSnapshots(hash({}), hash(), 0, opts), []);
});
