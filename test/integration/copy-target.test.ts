import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { copyKeys } from '../../src/engine/copy/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { UserError } from '../../src/util/errors.js';
import { compareServers } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

const lib = (name: string, reply: string) =>
  `#!lua name=${name}\nredis.register_function('${name}_fn', function(keys, args) return '${reply}' end)`;

describe('copy: non-empty target and functions', () => {
  let source: RedisServer;
  before(async () => {
    source = await startRedis();
    const c = await source.client();
    await c.set('a', 'from-source');
    await c.hset('h', 'f', 'v');
    await c.call('FUNCTION', 'LOAD', lib('shared', 'source-version'));
    await c.call('FUNCTION', 'LOAD', lib('onlysource', 'x'));
  });
  after(async () => {
    await source.stop();
  });

  async function dirtyTarget(): Promise<RedisServer> {
    const target = await startRedis();
    const c = await target.client();
    await c.set('a', 'from-target');
    await c.set('extra', 'x');
    await c.select(5);
    await c.set('db5-key', 'y');
    await c.call('FUNCTION', 'LOAD', lib('shared', 'target-version'));
    await c.call('FUNCTION', 'LOAD', lib('onlytarget', 'y'));
    return target;
  }

  const libraries = async (s: RedisServer) => {
    const list = (await (await s.client()).call('FUNCTION', 'LIST')) as unknown[][];
    return list.map((l) => String(l[1])).sort();
  };
  const fcall = async (s: RedisServer, fn: string) => (await s.client()).call('FCALL', fn, 0);

  test('copies functions into an empty target', async () => {
    const target = await startRedis();
    try {
      const report = await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
        dbs: 'all',
        onNonEmptyTarget: 'refuse',
      });
      assert.deepEqual(report.functions, { libraries: 2, action: 'restored (APPEND)' });
      assert.deepEqual(await libraries(target), ['onlysource', 'shared']);
      assert.equal(await fcall(target, 'shared_fn'), 'source-version');
    } finally {
      await target.stop();
    }
  });

  test('refuses a non-empty target, naming databases, key counts and clashing libraries', async () => {
    const target = await dirtyTarget();
    try {
      const err = await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url, 'staging'), {
        dbs: 'all',
        onNonEmptyTarget: 'refuse',
      }).catch((e: unknown) => e);
      assert.ok(err instanceof UserError, String(err));
      assert.match(err.message, /target staging .* is not empty: db0 has 2 keys, db5 has 1 key/);
      assert.match(err.message, /function libraries: onlytarget, shared/);
      assert.equal(err.exitCode, 1);
      // Nothing was written.
      assert.equal(await (await target.client()).get('a'), 'from-target');
      assert.equal(await fcall(target, 'shared_fn'), 'target-version');
    } finally {
      await target.stop();
    }
  });

  test("a target holding only function libraries (none named like the source's) is not empty", async () => {
    const target = await startRedis();
    try {
      await (await target.client()).call('FUNCTION', 'LOAD', lib('onlytarget', 'y'));
      const err = await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
        dbs: 'all',
        onNonEmptyTarget: 'refuse',
      }).catch((e: unknown) => e);
      assert.ok(err instanceof UserError, String(err));
      assert.match(err.message, /is not empty: function libraries: onlytarget\. Choose replace/);
      assert.match(
        err.message,
        /--replace: same-name keys and libraries are overwritten, the target's other libraries stay/,
      );
      assert.deepEqual(await libraries(target), ['onlytarget'], 'nothing was written');
      assert.equal(await (await target.client()).dbsize(), 0);
    } finally {
      await target.stop();
    }
  });

  test("flush with no libraries on the source deletes the target's (what the plan says)", async () => {
    const plain = await startRedis();
    const target = await startRedis();
    try {
      await (await plain.client()).set('k', 'v');
      await (await target.client()).call('FUNCTION', 'LOAD', lib('onlytarget', 'y'));
      const report = await copyKeys(parseEndpointUrl(plain.url), parseEndpointUrl(target.url), {
        dbs: 'all',
        onNonEmptyTarget: 'flush',
      });
      assert.match(String(report.functions?.action), /flushed 1 target libraries/);
      assert.deepEqual(await libraries(target), []);
      assert.equal(await (await target.client()).get('k'), 'v');
    } finally {
      await Promise.all([plain.stop(), target.stop()]);
    }
  });

  test('only the selected databases count as non-empty', async () => {
    const target = await startRedis();
    try {
      const c = await target.client();
      await c.select(5);
      await c.set('db5-key', 'y');
      const report = await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
        dbs: [0],
        onNonEmptyTarget: 'refuse',
        copyFunctions: false,
      });
      assert.equal(report.keysCopied, 2);
      assert.equal(report.functions, null);
    } finally {
      await target.stop();
    }
  });

  test('replace overwrites same-name keys and libraries and keeps the rest', async () => {
    const target = await dirtyTarget();
    try {
      const report = await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
        dbs: 'all',
        onNonEmptyTarget: 'replace',
      });
      assert.equal(report.functions?.action, 'restored (REPLACE)');
      const c = await target.client();
      assert.equal(await c.get('a'), 'from-source');
      assert.equal(await c.get('extra'), 'x');
      assert.deepEqual(await libraries(target), ['onlysource', 'onlytarget', 'shared']);
      assert.equal(await fcall(target, 'shared_fn'), 'source-version');
    } finally {
      await target.stop();
    }
  });

  test('flush empties the target databases and libraries first (after confirmation)', async () => {
    const target = await dirtyTarget();
    try {
      let asked: unknown;
      const report = await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
        dbs: 'all',
        onNonEmptyTarget: 'flush',
        confirmFlush: async (dbs, libs) => {
          asked = { dbs, libs: [...libs].sort() };
          return true;
        },
      });
      assert.deepEqual(asked, {
        dbs: [
          { db: 0, keys: 2 },
          { db: 5, keys: 1 },
        ],
        libs: ['onlytarget', 'shared'],
      });
      assert.equal(report.functions?.action, 'restored (FLUSH)');
      assert.deepEqual(await compareServers(source, target), []);
      assert.deepEqual(await libraries(target), ['onlysource', 'shared']);
    } finally {
      await target.stop();
    }
  });

  test('flush not confirmed leaves the target alone', async () => {
    const target = await dirtyTarget();
    try {
      await assert.rejects(
        copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
          dbs: 'all',
          onNonEmptyTarget: 'flush',
          confirmFlush: async () => false,
        }),
        /not confirmed/,
      );
      assert.equal(await (await target.client()).get('extra'), 'x');
    } finally {
      await target.stop();
    }
  });
});
