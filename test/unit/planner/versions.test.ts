import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rdbRefusal, releaseDowngrade, releaseName } from '../../../src/planner/versions.js';

const redis = (version: string, rdbVersion: number) => ({ flavor: 'redis', version, rdbVersion });
const valkey = (flavorVersion: string, rdbVersion: number) => ({
  flavor: 'valkey',
  version: '7.2.4',
  flavorVersion,
  rdbVersion,
});

test('a fork is named by its own version, not the redis_version it reports', () => {
  assert.equal(releaseName(valkey('8.1.1', 11)), 'valkey 8.1.1');
  assert.equal(releaseName(redis('8.0.2', 12)), 'redis 8.0.2');
});

test('the RDB refusal names both formats and releases, and why', () => {
  assert.equal(rdbRefusal(redis('7.0.15', 10), redis('8.0.2', 12)), undefined);
  assert.equal(rdbRefusal(valkey('8.1.1', 11), redis('8.0.2', 12)), undefined);
  assert.equal(rdbRefusal(redis('7.0.15', 10), valkey('8.1.1', 11)), undefined);
  assert.equal(
    rdbRefusal(valkey('8.1.1', 11), redis('7.0.15', 10)),
    "target's RDB format 10 (redis 7.0.15) is older than the source's 11 (valkey 8.1.1)",
  );
  assert.equal(
    rdbRefusal(redis('8.0.2', 12), valkey('8.1.1', 11)),
    "target's RDB format 11 (valkey 8.1.1) is older than the source's 12 (redis 8.0.2)",
  );
  assert.match(
    rdbRefusal(redis('8.0.2', 12), valkey('9.0.0', 80)) ?? '',
    /^target's RDB format 80 \(valkey 9\.0\.0\) does not take the source's 12 \(redis 8\.0\.2\): Valkey refuses RDB 12 to 79/,
  );
});

test('a same-flavor release downgrade is told by the release version, even when redis_version is the same', () => {
  assert.equal(
    releaseDowngrade(valkey('9.1.0', 80), valkey('9.0.3', 80)),
    "target runs valkey 9.0.3, older than the source's 9.1.0",
  );
  assert.equal(releaseDowngrade(valkey('8.1.1', 11), valkey('9.0.0', 80)), undefined);
  assert.equal(releaseDowngrade(redis('8.0.2', 12), valkey('8.1.1', 11)), undefined);
  assert.equal(
    releaseDowngrade(redis('8.0.2', 12), redis('7.0.15', 10)),
    "target runs redis 7.0.15, older than the source's 8.0.2",
  );
});
