import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseInfoKeyspace } from '../../../../src/engine/live-sync/reconcile.js';

test('INFO keyspace gives the keys of every db', () => {
  const info = '# Keyspace\r\ndb0:keys=12,expires=3,avg_ttl=0\r\ndb15:keys=1,expires=0,avg_ttl=0\r\n';
  assert.deepEqual(
    [...parseInfoKeyspace(info)],
    [
      [0, 12],
      [15, 1],
    ],
  );
  assert.equal(parseInfoKeyspace('# Keyspace\r\n').size, 0);
});
