// verify() and expiry times: the moment each server is asked must not make a difference, while a
// real one (a TTL off by more than the tolerance, a persistent key against an expiring one) is
// still reported in both directions. Both ways of reading expiries are covered: PEXPIRETIME
// (Redis >= 7.0) and PTTL, forced here by a target whose PEXPIRETIME is renamed away.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { type VerifyOptions, type VerifyReport, verify } from '../../src/engine/verify/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

let source: RedisServer;
let modern: RedisServer;
let noExpireTime: RedisServer;
let src: Redis;

before(async () => {
  [source, modern, noExpireTime] = await Promise.all([
    startRedis(),
    startRedis(),
    startRedis({ configLines: ['rename-command PEXPIRETIME ""'] }),
  ]);
  src = await source.client();
});

after(async () => {
  await Promise.all([source?.stop(), modern?.stop(), noExpireTime?.stop()]);
});

const TARGETS = [
  { name: 'PEXPIRETIME', by: 'expiretime', server: () => modern },
  { name: 'PTTL (no PEXPIRETIME on the target)', by: 'pttl', server: () => noExpireTime },
] as const;

function run(target: RedisServer, options: Partial<VerifyOptions> = {}): Promise<VerifyReport> {
  return verify(parseEndpointUrl(source.url, 'source'), parseEndpointUrl(target.url, 'target'), {
    dbs: 'all',
    recheckRounds: 0,
    ...options,
  });
}

/** Expiry (Unix ms) of each key, read independently of verify: PEXPIRETIME, or now + PTTL. */
async function expiries(client: Redis, keys: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const key of keys) {
    const [seconds, micros] = await client.time();
    const pttl = await client.pttl(key);
    out.push(pttl < 0 ? pttl : Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) + pttl);
  }
  return out;
}

for (const t of TARGETS) {
  describe(`verify TTLs by ${t.name}`, () => {
    let tgt: Redis;
    before(async () => {
      tgt = await t.server().client();
    });
    beforeEach(async () => {
      await Promise.all([src.flushall(), tgt.flushall()]);
    });

    it('finds no difference between keys that expire at the same moment, with tolerance 0', async () => {
      const at = Date.now() + 86_400_000;
      for (let i = 0; i < 2000; i++) {
        // Each key set on both servers at different moments, with the same absolute expiry.
        await src.set(`k${i}`, 'v', 'PXAT', at + i);
        await tgt.set(`k${i}`, 'v', 'PXAT', at + i);
      }
      const r = await run(t.server(), { ttlToleranceMs: 0 });
      assert.equal(r.ttls?.by, t.by, JSON.stringify(r.ttls));
      assert.equal(r.identical, true, JSON.stringify(r.differences));
      assert.equal(r.keysChecked, 2000);
    });

    it('reports TTLs off by more than the tolerance, and persistence, in both directions', async () => {
      const at = Date.now() + 600_000;
      await src.set('same', 'v', 'PXAT', at);
      await tgt.set('same', 'v', 'PXAT', at);
      await src.set('later', 'v', 'PXAT', at);
      await tgt.set('later', 'v', 'PXAT', at + 300);
      await src.set('earlier', 'v', 'PXAT', at);
      await tgt.set('earlier', 'v', 'PXAT', at - 300);
      await src.set('persistent-on-source', 'v');
      await tgt.set('persistent-on-source', 'v', 'PXAT', at);
      await src.set('persistent-on-target', 'v', 'PXAT', at);
      await tgt.set('persistent-on-target', 'v');
      const keys = ['same', 'later', 'earlier', 'persistent-on-source', 'persistent-on-target'];
      // The premise, read without verify's code: what differs and by how much.
      const [a, b] = await Promise.all([expiries(src, keys), expiries(tgt, keys)]);
      assert.ok(Math.abs(b[1]! - a[1]! - 300) < 50 && Math.abs(a[2]! - b[2]! - 300) < 50);
      assert.deepEqual([a[3], b[4]], [-1, -1]);

      const r = await run(t.server(), { ttlToleranceMs: 100 });
      assert.equal(r.ttls?.by, t.by);
      const ttl = r.differences.ttl.samples.map((s) => `${s.key}: ${s.detail}`).sort();
      assert.equal(ttl.length, 2, JSON.stringify(r.differences));
      assert.match(ttl[0]!, /^earlier: .*expires at least (2\d\d|300) ms earlier on the target/);
      assert.match(ttl[1]!, /^later: .*expires at least (2\d\d|300) ms later on the target/);
      const persistence = r.differences.persistence.samples.map((s) => s.key).sort();
      assert.deepEqual(persistence, ['persistent-on-source', 'persistent-on-target']);
      assert.equal(r.differentKeys, 4);

      // Within a tolerance wider than the offsets, only persistence is left.
      const loose = await run(t.server(), { ttlToleranceMs: 400 });
      assert.equal(loose.differences.ttl.count, 0);
      assert.equal(loose.differences.persistence.count, 2);
    });
  });
}
