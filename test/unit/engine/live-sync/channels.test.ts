import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseNotification, subscriptionPatterns } from '../../../../src/engine/live-sync/channels.js';

test('one pattern per selected db, or one wildcard', () => {
  assert.deepEqual(subscriptionPatterns('keyevent', [3, 0, 3]), ['__keyevent@0__:*', '__keyevent@3__:*']);
  assert.deepEqual(subscriptionPatterns('keyspace', 'all'), ['__keyspace@*__:*']);
});

test('keyevent: db and event from the channel, binary key from the message', () => {
  const key = Buffer.from([0x00, 0xff, 0x5f, 0x5f, 0x3a]);
  const n = parseNotification('keyevent', Buffer.from('__keyevent@12__:rename_from'), key);
  assert.deepEqual(n, { db: 12, event: 'rename_from', key });
});

test('keyspace: the key is the rest of the channel, even if it contains __:', () => {
  const key = Buffer.concat([Buffer.from('a__:b'), Buffer.from([0xfe])]);
  const n = parseNotification(
    'keyspace',
    Buffer.concat([Buffer.from('__keyspace@0__:'), key]),
    Buffer.from('set'),
  );
  assert.deepEqual(n, { db: 0, event: 'set', key });
});

test('anything else is ignored, not thrown on', () => {
  assert.equal(parseNotification('keyevent', Buffer.from('__keyspace@0__:x'), Buffer.from('k')), null);
  assert.equal(parseNotification('keyevent', Buffer.from('__keyevent@x__:set'), Buffer.from('k')), null);
  assert.equal(parseNotification('keyevent', Buffer.from('__keyevent@__:set'), Buffer.from('k')), null);
  assert.equal(parseNotification('keyevent', Buffer.from('other'), Buffer.from('k')), null);
});
