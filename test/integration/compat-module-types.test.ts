// Redis 8's vector sets (a built-in module type: TYPE says vectorset, DUMP writes a module value)
// cross only as DUMP payloads: Redis 8.0 -> Redis 8.0 carries them with DUMP/RESTORE; to Valkey
// 8.1 or Redis 7.0, which cannot take the payload and have no native command to rebuild them, the
// plan names them as a blocker, found by the probe's module-key sample (no --big-keys needed).
// The vector set is compared here with its own commands (VCARD, VDIM, VEMB, VGETATTR).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { copyKeys } from '../../src/engine/copy/index.js';
import { verify } from '../../src/engine/verify/index.js';
import { withDefaults } from '../../src/planner/defaults.js';
import { planMigration } from '../../src/planner/plan.js';
import { probeEndpoint } from '../../src/probe/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { type RedisServer, serverUnavailable, startRedis } from '../harness/redis-server.js';
import { matrixUnavailable } from './compat-support.js';

const missing = (await serverUnavailable('redis-8.0')) ?? (await matrixUnavailable());
const ELEMENTS = ['e1', 'e2', 'e3'];

/** A vector set read with its own commands (not DUMP): size, dimension, each vector and attribute. */
async function readVectorSet(c: Redis, key: string): Promise<unknown> {
  const out: unknown[] = [await c.call('VCARD', key), await c.call('VDIM', key)];
  for (const e of ELEMENTS) out.push(e, await c.call('VEMB', key, e), await c.call('VGETATTR', key, e));
  return out;
}

describe('vector sets (Redis 8 module type) across servers', { skip: missing }, () => {
  let source: RedisServer;
  before(async () => {
    source = await startRedis({ server: 'redis-8.0' });
    const c = await source.client();
    // NOQUANT keeps the floats exact, so each vector reads back as written.
    await c.call('VADD', 'vs', 'VALUES', '3', '1', '0', '0', 'e1', 'NOQUANT', 'SETATTR', '{"n":1}');
    await c.call('VADD', 'vs', 'VALUES', '3', '0', '1', '0', 'e2', 'NOQUANT');
    await c.call('VADD', 'vs', 'VALUES', '3', '0', '0', '1', 'e3', 'NOQUANT', 'SETATTR', '{"n":3}');
    await c.pexpire('vs', 600_000);
    await c.set('plain', 'x');
  });
  after(async () => {
    await source?.stop();
  });

  async function planTo(target: RedisServer) {
    const src = parseEndpointUrl(source.url, 'src');
    const dst = parseEndpointUrl(target.url, 'dst');
    const [sp, tp] = await Promise.all([probeEndpoint(src), probeEndpoint(dst)]);
    assert.deepEqual(sp.moduleKeys, { sampled: 2, keys: 2, types: [{ db: 0, type: 'vectorset', keys: 1 }] });
    return { src, dst, plan: planMigration(sp, tp, withDefaults({})) };
  }

  test('Redis 8.0 -> Redis 8.0: DUMP/RESTORE carries the vector set, read back equal', async () => {
    const target = await startRedis({ server: 'redis-8.0' });
    try {
      const { src, dst, plan } = await planTo(target);
      assert.deepEqual(plan.blockers, []);
      const copy = planMigration(
        await probeEndpoint(src),
        await probeEndpoint(dst),
        withDefaults({ strategy: 'dump-restore' }),
      );
      assert.equal(copy.copyMode, 'dump');
      const report = await copyKeys(src, dst, { dbs: 'all', onNonEmptyTarget: 'refuse' });
      assert.equal(report.keysFailed, 0);
      assert.equal(report.keysCopied, 2);
      // Known gap of the engine's verify: a restored vector set DUMPs to other bytes than its source
      // (checked: same size, different payload), and verify has no type-aware read of vector sets,
      // so it reports the key as not comparable. Every other key is proven equal.
      const verdict = await verify(src, dst, { dbs: 'all', recheckDelayMs: 20 });
      assert.equal(verdict.differentKeys, 1, JSON.stringify(verdict.differences));
      assert.deepEqual(verdict.differences.value.samples, [
        {
          db: 0,
          key: 'vs',
          detail: 'cannot compare values of type vectorset: no chunked read for this type',
        },
      ]);
      const [sc, tc] = [await source.client(), await target.client()];
      assert.equal(await tc.type('vs'), 'vectorset');
      assert.deepEqual(await readVectorSet(tc, 'vs'), await readVectorSet(sc, 'vs'));
      const ttl = await tc.pttl('vs');
      assert.ok(ttl > 590_000 && ttl <= 600_000, `ttl ${ttl}`);
    } finally {
      await target.stop();
    }
  });

  for (const to of ['valkey-8.1', 'redis-7.0'] as const) {
    test(`Redis 8.0 -> ${to}: the plan names the vector set as a blocker; a by-type copy could not carry it`, async () => {
      const target = await startRedis({ server: to });
      try {
        const { src, dst, plan } = await planTo(target);
        assert.equal(plan.strategy, null);
        const blocker = plan.blockers.find((b) => b.code === 'module-keys-cannot-cross');
        assert.ok(blocker, JSON.stringify(plan.blockers));
        assert.match(blocker.message, /module types \(vectorset\).*cannot be copied type by type/);
        // What the blocker prevents: the copy fails that key (exit 1 in the CLI), the rest copied.
        const report = await copyKeys(src, dst, { dbs: 'all', onNonEmptyTarget: 'refuse' });
        assert.equal(report.keysFailed, 1);
        assert.equal(report.keysCopied, 1);
        assert.equal(await (await target.client()).exists('vs'), 0);
      } finally {
        await target.stop();
      }
    });
  }
});
