// Redis 8's vector sets (a built-in module type: TYPE says vectorset, DUMP writes a module value)
// cross only as DUMP payloads: Redis 8.0 -> Redis 8.0 carries them with DUMP/RESTORE; to Valkey
// 8.1 or Redis 7.0, which cannot take the payload and have no native command to rebuild them, the
// plan names them as a blocker, found by the probe's module-key sample (no --big-keys needed).
// A restored vector set DUMPs to other bytes (RESTORE rebuilds the HNSW links), so verify compares
// it by content; test/harness/compare.ts does too, with its own reads.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { copyKeys } from '../../src/engine/copy/index.js';
import { RespConnection } from '../../src/engine/resp/connection.js';
import { verify } from '../../src/engine/verify/index.js';
import { compareVectorSets } from '../../src/engine/verify/vector-set.js';
import { withDefaults } from '../../src/planner/defaults.js';
import { planMigration } from '../../src/planner/plan.js';
import { probeEndpoint } from '../../src/probe/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { compareServers } from '../harness/compare.js';
import { type RedisServer, serverUnavailable, startRedis } from '../harness/redis-server.js';
import { matrixUnavailable } from './compat-support.js';

const missing = (await serverUnavailable('redis-8.0')) ?? (await matrixUnavailable());
/** Elements per vector set: several hundred, so the comparison reads more than one page. */
const ELEMENTS = 400;
const QUANTIZATIONS = { 'vs:q8': 'Q8', 'vs:noquant': 'NOQUANT', 'vs:bin': 'BIN' } as const;

/** A deterministic 8-dimensional vector for element i. */
function vector(i: number, shift = 0): string[] {
  return Array.from({ length: 8 }, (_, d) => String(Math.sin(i * 0.37 + d + shift)));
}

async function addVectorSets(c: Redis): Promise<void> {
  for (const [key, quant] of Object.entries(QUANTIZATIONS)) {
    const p = c.pipeline();
    for (let i = 0; i < ELEMENTS; i++) {
      const args = ['VADD', key, 'VALUES', '8', ...vector(i), `el:${i}`, quant];
      if (i % 3 === 0) args.push('SETATTR', JSON.stringify({ i, tag: `t${i % 5}` }));
      p.call(args[0]!, ...args.slice(1));
    }
    for (const [err] of (await p.exec()) ?? []) assert.ifError(err);
  }
  // A reduced set carries its projection (VINFO projection-input-dim).
  await c.call('VADD', 'vs:reduced', 'REDUCE', '4', 'VALUES', '8', ...vector(1), 'r1');
  await c.call('VADD', 'vs:reduced', 'REDUCE', '4', 'VALUES', '8', ...vector(2), 'r2');
}

describe('vector sets (Redis 8 module type) across servers', { skip: missing }, () => {
  let source: RedisServer;
  before(async () => {
    source = await startRedis({ server: 'redis-8.0' });
    const c = await source.client();
    await c.call('VADD', 'vs', 'VALUES', '3', '1', '0', '0', 'e1', 'NOQUANT', 'SETATTR', '{"n":1}');
    await c.call('VADD', 'vs', 'VALUES', '3', '0', '1', '0', 'e2', 'NOQUANT');
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

  test('Redis 8.0 -> Redis 8.0: the plan allows it; DUMP/RESTORE carries the vector set with its TTL', async () => {
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
      assert.equal(await (await target.client()).type('vs'), 'vectorset');
      const ttl = await (await target.client()).pttl('vs');
      assert.ok(ttl > 590_000 && ttl <= 600_000, `ttl ${ttl}`);
      assert.deepEqual(await compareServers(source, target), []);
    } finally {
      await target.stop();
    }
  });

  test('Redis 8.0 -> Redis 8.0: verify compares vector sets (Q8, NOQUANT, BIN, REDUCE) by content', async () => {
    const [from, to] = await Promise.all([
      startRedis({ server: 'redis-8.0' }),
      startRedis({ server: 'redis-8.0' }),
    ]);
    try {
      const [fc, tc] = [await from.client(), await to.client()];
      await addVectorSets(fc);
      const src = parseEndpointUrl(from.url, 'src');
      const dst = parseEndpointUrl(to.url, 'dst');
      const report = await copyKeys(src, dst, { dbs: 'all', onNonEmptyTarget: 'refuse' });
      assert.equal(report.keysFailed, 0);
      // The payloads differ after RESTORE (other HNSW links): equality must come from the content.
      assert.notDeepEqual(await tc.dumpBuffer('vs:q8'), await fc.dumpBuffer('vs:q8'));
      // A small chunk makes every set take several pages.
      const same = await verify(src, dst, { dbs: 'all', recheckDelayMs: 20, chunkSize: 64 });
      assert.equal(same.identical, true, JSON.stringify(same.differences));
      assert.equal(same.keysChecked, 4);
      assert.equal(same.comparisons.byType, 4);
      assert.deepEqual(await compareServers(from, to), []);

      // One changed vector, one changed attribute, one removed element, one element only on the
      // target, on the target: verify names each element, and so does the independent comparison.
      await tc.call('VADD', 'vs:q8', 'VALUES', '8', ...vector(7, 1.5), 'el:7', 'Q8');
      await tc.call('VSETATTR', 'vs:noquant', 'el:3', '{"i":3,"tag":"changed"}');
      await tc.call('VREM', 'vs:bin', 'el:11');
      await tc.call('VADD', 'vs:reduced', 'REDUCE', '4', 'VALUES', '8', ...vector(3), 'r3');
      const diff = await verify(src, dst, { dbs: 'all', recheckDelayMs: 20, chunkSize: 64 });
      assert.equal(diff.differentKeys, 4, JSON.stringify(diff.differences));
      const details = new Map(diff.differences.value.samples.map((s) => [s.key, s.detail]));
      assert.match(details.get('vs:q8') ?? '', /400 vs 400 elements, 1 differ: element 'el:7': int8 vector/);
      assert.match(
        details.get('vs:noquant') ?? '',
        /1 differ: element 'el:3': attributes \{"i":3,"tag":"t3"\} vs \{"i":3,"tag":"changed"\}/,
      );
      assert.match(
        details.get('vs:bin') ?? '',
        /400 vs 399 elements, 1 differ: element 'el:11' missing on the target/,
      );
      assert.match(
        details.get('vs:reduced') ?? '',
        /2 vs 3 elements, 1 differ: element 'r3' only on the target/,
      );
      // Past the name limits (Redis 8.0 cannot page the names), the key is not compared, saying so.
      const [a, b] = await Promise.all([RespConnection.open(src), RespConnection.open(dst)]);
      try {
        const limited = await compareVectorSets(a, b, Buffer.from('vs:q8'), 64, {
          bytes: 1024,
          elements: 100,
        });
        assert.equal(limited.equal, false);
        assert.match(
          limited.equal ? '' : limited.detail,
          /^vector set not compared: 400 elements \(more than 100 or 0.0009765625 MiB of names\).*DEBUG DIGEST-VALUE/,
        );
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
      const independent = await compareServers(from, to);
      assert.equal(independent.length, 4, independent.join('\n'));
      for (const key of ['vs:q8', 'vs:noquant', 'vs:bin', 'vs:reduced'])
        assert.ok(
          independent.some((d) => d.startsWith(`db0 ${key}: value`)),
          `${key}: ${independent.join('\n')}`,
        );
    } finally {
      await Promise.all([from.stop(), to.stop()]);
    }
  });

  test('Redis 8.0 -> Redis 8.0: a vector set bigger than one read is paged; another quantization is named', async () => {
    const [from, to] = await Promise.all([
      startRedis({ server: 'redis-8.0' }),
      startRedis({ server: 'redis-8.0' }),
    ]);
    try {
      const [fc, tc] = [await from.client(), await to.client()];
      // 600 elements of 1024 f32 dimensions: 2.4 MB of vectors, more than one 2 MiB read (read-size.ts).
      const p = fc.pipeline();
      for (let i = 0; i < 600; i++) {
        const blob = Buffer.alloc(4096);
        for (let d = 0; d < 1024; d++) blob.writeFloatLE(Math.sin(i + d * 0.01), d * 4);
        p.call('VADD', 'big', 'FP32', blob, `e${i}`, 'NOQUANT');
      }
      // An attribute of 1 MiB makes a page sized by the vectors too big: it is read again smaller.
      p.call('VSETATTR', 'big', 'e10', JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }));
      await fc.call('VADD', 'quant', 'VALUES', '2', '1', '0', 'a', 'NOQUANT');
      for (const [err] of (await p.exec()) ?? []) assert.ifError(err);
      const src = parseEndpointUrl(from.url, 'src');
      const dst = parseEndpointUrl(to.url, 'dst');
      await copyKeys(src, dst, { dbs: 'all', onNonEmptyTarget: 'refuse', match: 'big' });
      // The same element and vector, stored as int8.
      await tc.call('VADD', 'quant', 'VALUES', '2', '1', '0', 'a', 'Q8');
      const report = await verify(src, dst, { dbs: 'all', recheckDelayMs: 20 });
      assert.equal(report.differentKeys, 1, JSON.stringify(report.differences));
      assert.deepEqual(report.differences.value.samples, [
        { db: 0, key: 'quant', detail: 'vector set quant-type f32 vs int8' },
      ]);
      assert.equal(report.comparisons.byType, 2);
      assert.equal((await compareServers(from, to)).length, 1);
      await tc.call('VSETATTR', 'big', 'e599', '{"late":true}');
      const late = await verify(src, dst, { dbs: 'all', recheckDelayMs: 20, match: 'big' });
      assert.match(late.differences.value.samples[0]?.detail ?? '', /element 'e599': attributes none vs/);
    } finally {
      await Promise.all([from.stop(), to.stop()]);
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
