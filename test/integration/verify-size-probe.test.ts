// verify() with the per-key size probe decided per run (copy/size-probe.ts on both servers' INFO
// memory): no MEMORY USAGE when both servers have room to spare, DUMP replies read under a byte
// cap instead, and payloads over the cap compared by type (chunked digests), which must still
// tell equal values from different ones. Also the CLI's --size-probe.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { copyKeys } from '../../src/engine/copy/index.js';
import { type VerifyOptions, type VerifyReport, verify } from '../../src/engine/verify/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { jsonReport, runCli } from '../harness/cli.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { fillEveryType } from './copy-fixtures.js';

const MiB = 1024 * 1024;
/** verify.ts GROUP_BYTES: DUMP payload bytes one page keeps per server when sizes are not probed. */
const CAP = 16 * MiB;

let source: RedisServer;
/** maxmemory 1gb, like the source. */
let target: RedisServer;
/** No maxmemory. */
let plain: RedisServer;
let src: Redis;
let tgt: Redis;

before(async () => {
  [source, target, plain] = await Promise.all([
    startRedis({ configLines: ['maxmemory 1gb'] }),
    startRedis({ configLines: ['maxmemory 1gb'] }),
    startRedis(),
  ]);
  src = await source.client();
  tgt = await target.client();
});

after(async () => {
  await Promise.all([source?.stop(), target?.stop(), plain?.stop()]);
});

function run(
  from: RedisServer,
  to: RedisServer,
  options: Partial<VerifyOptions> = {},
): Promise<VerifyReport> {
  return verify(parseEndpointUrl(from.url, 'source'), parseEndpointUrl(to.url, 'target'), {
    dbs: 'all',
    recheckDelayMs: 10,
    ...options,
  });
}

/** Calls of `command` (e.g. 'memory|usage') since the server started, from INFO commandstats. */
async function commandCalls(s: RedisServer, command: string): Promise<number> {
  const stats = await (await s.client()).info('commandstats');
  const name = command.replace('|', '\\|');
  return Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
}

function counts(r: VerifyReport): Record<string, number> {
  return Object.fromEntries(Object.entries(r.differences).map(([cls, d]) => [cls, d.count]));
}

const NONE = { missing: 0, extra: 0, type: 0, value: 0, ttl: 0, persistence: 0, 'field-ttl': 0 };

/** The same bytes with the byte at `at` changed. */
function flipped(value: Buffer, at: number): Buffer {
  const out = Buffer.from(value);
  out[at] = out[at]! ^ 0xff;
  return out;
}

describe('verify: deciding the size probe', () => {
  let keys = 0;
  before(async () => {
    await Promise.all([src.flushall(), tgt.flushall(), (await plain.client()).flushall()]);
    await fillEveryType(src);
    keys = await src.dbsize();
    for (const to of [target, plain]) {
      const copied = await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(to.url), {
        dbs: 'all',
        onNonEmptyTarget: 'refuse',
      });
      assert.equal(copied.keysCopied, keys, JSON.stringify(copied.errors));
    }
  });

  it('skips MEMORY USAGE when both servers have maxmemory with room to spare', async () => {
    const probesBefore = await commandCalls(source, 'memory|usage');
    const r = await run(source, target);
    assert.equal(r.sizeProbe?.perKey, false, r.sizeProbe?.reason);
    assert.match(r.sizeProbe.reason, /no DUMP can exceed the source's free memory/);
    assert.deepEqual(counts(r), NONE);
    assert.equal(r.identical, true);
    assert.equal(r.keysChecked, keys);
    assert.equal((await commandCalls(source, 'memory|usage')) - probesBefore, 0);
  });

  it("sizeProbe 'always' measures every key", async () => {
    const probesBefore = await commandCalls(source, 'memory|usage');
    const r = await run(source, target, { sizeProbe: 'always' });
    assert.equal(r.sizeProbe?.perKey, true);
    assert.match(r.sizeProbe.reason, /--size-probe/);
    assert.equal(r.identical, true, JSON.stringify(r.differences));
    assert.equal(r.keysChecked, keys);
    const probes = (await commandCalls(source, 'memory|usage')) - probesBefore;
    assert.ok(probes >= keys, `${probes} MEMORY USAGE calls for ${keys} keys`);
  });

  it('probes when only the target has no maxmemory, and says it is because of the target', async () => {
    const probesBefore = await commandCalls(source, 'memory|usage');
    const r = await run(source, plain);
    assert.equal(r.sizeProbe?.perKey, true);
    assert.match(r.sizeProbe.reason, /^the target has no maxmemory/);
    assert.equal(r.identical, true, JSON.stringify(r.differences));
    const probes = (await commandCalls(source, 'memory|usage')) - probesBefore;
    assert.ok(probes >= keys, `${probes} MEMORY USAGE calls for ${keys} keys`);
  });

  it('probes when only the source has no maxmemory, and says it is because of the source', async () => {
    const r = await run(plain, target);
    assert.equal(r.sizeProbe?.perKey, true);
    assert.match(r.sizeProbe.reason, /^the source has no maxmemory/);
    assert.equal(r.identical, true, JSON.stringify(r.differences));
  });

  it('never probes with a big-key threshold of 0, whatever the memory', async () => {
    const probesBefore = await commandCalls(plain, 'memory|usage');
    const r = await run(plain, target, { bigKeyThresholdBytes: 0, sizeProbe: 'always' });
    assert.deepEqual(r.sizeProbe, { perKey: false, reason: 'turned off (big-key threshold 0)' });
    assert.equal(r.identical, true, JSON.stringify(r.differences));
    assert.equal((await commandCalls(plain, 'memory|usage')) - probesBefore, 0);
  });
});

describe('verify without the size probe: payloads over the byte cap', () => {
  const SMALL = 300;
  const ELEMENT = 16 * 1024;
  const ELEMENTS = 1280;
  let bigString: Buffer;
  let setMembers: Buffer[];
  let listItems: Buffer[];

  before(async () => {
    await Promise.all([src.flushall(), tgt.flushall()]);
    // Random bytes: LZF gains nothing, so every payload is about as long as its value.
    bigString = randomBytes(20 * MiB);
    setMembers = Array.from({ length: ELEMENTS }, () => randomBytes(ELEMENT));
    listItems = Array.from({ length: ELEMENTS }, () => randomBytes(ELEMENT));
    for (const c of [src, tgt]) {
      const pipe = c.pipeline();
      for (let i = 0; i < SMALL; i++) pipe.set(`small:${i}`, smallValue(i));
      pipe.set('big:string', bigString);
      for (let i = 0; i < ELEMENTS; i += 128) {
        pipe.sadd('big:set', ...setMembers.slice(i, i + 128));
        pipe.rpush('big:list', ...listItems.slice(i, i + 128));
      }
      const results = await pipe.exec();
      for (const [err] of results ?? []) assert.ifError(err);
    }
    // The premise: each big key's DUMP is over the cap on its own, wherever SCAN puts it.
    for (const key of ['big:string', 'big:set', 'big:list']) {
      const payload = await src.dumpBuffer(key);
      assert.ok(payload && payload.length > CAP, `${key}: DUMP of ${payload?.length} bytes`);
    }
  });

  after(async () => {
    await Promise.all([src.flushall(), tgt.flushall()]);
  });

  /** Same on both sides (seeded by index, not random per call). */
  function smallValue(i: number): Buffer {
    return Buffer.alloc(1024, `small-${i}-`);
  }

  it('compares big keys by type and the rest by payload, without MEMORY USAGE', async () => {
    const probesBefore = await commandCalls(source, 'memory|usage');
    // One page holds every key (batch 1000 > 303 keys).
    const r = await run(source, target, { batchSize: 1000 });
    assert.equal(r.sizeProbe?.perKey, false, r.sizeProbe?.reason);
    assert.deepEqual(counts(r), NONE);
    assert.equal(r.identical, true);
    assert.equal(r.keysChecked, SMALL + 3);
    assert.deepEqual(r.comparisons, { byPayload: SMALL, byType: 3 });
    assert.equal(r.comparedBy, 'mixed');
    assert.equal(r.recheck.candidates, 0);
    assert.equal((await commandCalls(source, 'memory|usage')) - probesBefore, 0);
  });

  it('finds one changed byte/element in each drained payload', async () => {
    await tgt.setrange('big:string', 12_345_678, flipped(bigString.subarray(12_345_678, 12_345_679), 0));
    const member = setMembers[777]!;
    assert.equal(await tgt.srem('big:set', member), 1);
    assert.equal(await tgt.sadd('big:set', flipped(member, 5000)), 1);
    await tgt.lset('big:list', 900, flipped(listItems[900]!, 100));
    // Small on the source, over the cap only on the target.
    await tgt.set('small:7', randomBytes(17 * MiB));

    const r = await run(source, target, { batchSize: 1000, recheckRounds: 0 });
    assert.equal(r.sizeProbe?.perKey, false, r.sizeProbe?.reason);
    assert.deepEqual(counts(r), { ...NONE, value: 4 }, JSON.stringify(r.differences));
    assert.equal(r.identical, false);
    assert.equal(r.differentKeys, 4);
    const samples = r.differences.value.samples;
    assert.deepEqual(samples.map((s) => s.key).sort(), ['big:list', 'big:set', 'big:string', 'small:7']);
    const detail = Object.fromEntries(samples.map((s) => [s.key, s.detail]));
    assert.match(detail['small:7']!, /1024 vs 17825792 bytes/);
    assert.equal(r.comparisons.byType, 4);
    assert.equal(r.comparisons.byPayload, SMALL - 1);
  });
});

const cli = (...args: string[]) => runCli(['verify', ...args]);

describe('migration-buddy verify --size-probe', () => {
  before(async () => {
    await Promise.all([src.flushall(), tgt.flushall()]);
    for (const c of [src, tgt]) await c.mset({ a: '1', b: '2', c: 'x'.repeat(5000) });
  });

  it('measures every key with --size-probe, and not without it, on maxmemory servers', async () => {
    const probesBefore = await commandCalls(source, 'memory|usage');
    const probed = await cli(source.url, target.url, '--json', '--size-probe');
    assert.equal(probed.code, 0, probed.stderr);
    const r = jsonReport(probed.stdout) as Partial<VerifyReport>;
    assert.equal(r.identical, true);
    assert.equal(r.sizeProbe?.perKey, true);
    assert.match(r.sizeProbe.reason, /--size-probe/);
    assert.ok((await commandCalls(source, 'memory|usage')) - probesBefore >= 3);

    const unprobed = await cli(source.url, target.url, '--json');
    assert.equal(unprobed.code, 0, unprobed.stderr);
    const u = jsonReport(unprobed.stdout) as Partial<VerifyReport>;
    assert.equal(u.identical, true);
    assert.equal(u.sizeProbe?.perKey, false, u.sizeProbe?.reason);
  });
});
