import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expiryFacts, provesNoExpiry } from '../../../src/engine/expiry-facts.js';

const keyspace = (line: string) => Buffer.from(`# Keyspace\r\n${line}\r\n`);
const stats = (expired: number) =>
  Buffer.from(`# Stats\r\ntotal_connections_received:3\r\nexpired_keys:${expired}\r\nevicted_keys:0\r\n`);

test('expiry facts: the database line of INFO keyspace and expired_keys of INFO stats', () => {
  const replies = [keyspace('db0:keys=10,expires=0,avg_ttl=0\r\ndb3:keys=5,expires=2,avg_ttl=900'), stats(7)];
  assert.deepEqual(expiryFacts(replies, 0), { expires: 0, expiredKeys: 7 });
  assert.deepEqual(expiryFacts(replies, 3), { expires: 2, expiredKeys: 7 });
  // A database INFO keyspace does not list is empty.
  assert.deepEqual(expiryFacts(replies, 5), { expires: 0, expiredKeys: 7 });
});

test('expiry facts: unreadable when a reply is an error, cut by the byte cap, or lacks expired_keys', () => {
  assert.equal(expiryFacts([null, stats(1)], 0), undefined);
  assert.equal(expiryFacts([keyspace('db0:keys=1,expires=0'), null], 0), undefined);
  assert.equal(expiryFacts([keyspace('db0:keys=1,expires=0'), Buffer.from('# Stats\r\n')], 0), undefined);
});

test('no expiry is proven only by no TTL at both looks and no key expired in between', () => {
  const none = { expires: 0, expiredKeys: 4 };
  assert.equal(provesNoExpiry(none, { ...none }), true);
  assert.equal(provesNoExpiry({ expires: 1, expiredKeys: 4 }, none), false);
  assert.equal(provesNoExpiry(none, { expires: 1, expiredKeys: 4 }), false);
  // A key given a TTL after the first look and expired before the second.
  assert.equal(provesNoExpiry(none, { expires: 0, expiredKeys: 5 }), false);
  assert.equal(provesNoExpiry(undefined, none), false);
  assert.equal(provesNoExpiry(none, undefined), false);
});
