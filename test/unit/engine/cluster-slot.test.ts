import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc16, keySlot } from '../../../src/engine/cluster/slot.js';

test('crc16 is CRC-16/XMODEM (the Redis Cluster spec check value)', () => {
  assert.equal(crc16(Buffer.from('123456789')), 0x31c3);
});

test('keySlot matches CLUSTER KEYSLOT on known keys, hash tags included', () => {
  // Values from CLUSTER KEYSLOT on Redis 7.0.15 (test/integration/cluster-slot.test.ts checks random binary keys).
  const known: [string, number][] = [
    ['foo', 12182],
    ['bar', 5061],
    ['hello', 866],
    ['', 0],
    ['{user1000}.following', 3443],
    ['{user1000}.followers', 3443],
    ['user1000', 3443],
    ['foo{}{bar}', 8363],
    ['foo{{bar}}zap', 4015],
    ['foo{bar}{zap}', 5061],
  ];
  for (const [key, slot] of known) assert.equal(keySlot(key), slot, key);
});
