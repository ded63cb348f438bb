// Shard jobs per worker: the flag, else SHARD_CONCURRENCY, else the config, else 2.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shardConcurrency } from '../../../src/jobs/shard-concurrency.js';
import { UserError } from '../../../src/util/errors.js';

test('flag over environment over config over the default', () => {
  const config = { workers: { shardConcurrency: 5 } };
  assert.equal(shardConcurrency('3', config, { SHARD_CONCURRENCY: '4' }), 3);
  assert.equal(shardConcurrency(undefined, config, { SHARD_CONCURRENCY: '4' }), 4);
  assert.equal(shardConcurrency(undefined, config, {}), 5);
  assert.equal(shardConcurrency(undefined, undefined, {}), 2);
});

test('anything but a whole number from 1 to 64 is refused, naming where it came from', () => {
  assert.throws(
    () => shardConcurrency('0', undefined, {}),
    (e: Error) => e instanceof UserError && /--shard-concurrency/.test(e.message),
  );
  assert.throws(() => shardConcurrency('2.5', undefined, {}), UserError);
  assert.throws(
    () => shardConcurrency(undefined, undefined, { SHARD_CONCURRENCY: 'many' }),
    /SHARD_CONCURRENCY must be/,
  );
  assert.throws(() => shardConcurrency('65', undefined, {}), UserError);
});
