// `migration-buddy verify` on one big key at a time, of every type, made of big elements (list
// elements, hash values, set and zset members, stream field values of 1 MiB; one big string):
// its peak memory stays bounded (chunked reads under a byte budget, never a whole value), its
// verdict agrees with independent code, and one changed element in the middle is found.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { jsonReport, runCli } from '../harness/cli.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

const MiB = 1024 * 1024;
/** 1 MiB elements per key. */
const ELEMENTS = 64;
const TYPES = ['list', 'hash', 'set', 'zset', 'string', 'stream'] as const;
type BigType = (typeof TYPES)[number];
/**
 * The CLI process alone (node + tsx) peaks near 155 MB here, and garbage not yet collected adds
 * up to ~65 MB whatever the key (V8 collects after 64 MB of new external memory): 186-217 MB for
 * keys of 200 MB (bench/verify-big-key.ts). Reading one of these keys whole on both sides would
 * add 128 MB to the baseline (283 MB and more), which the bound still catches; the digest runs
 * measured 220-252 MB on a loaded machine, too near the 250 MB this bound used to be.
 */
const PEAK_RSS_BOUND = 270 * MiB;

const base = randomBytes(MiB);
function element(i: number, variant = 0): Buffer {
  const out = Buffer.from(base);
  out.writeUInt32BE(i, 0);
  out.writeUInt32BE(variant, MiB / 2);
  return out;
}

const keyOf = (type: BigType) => `big:${type}`;

async function writeBigKey(client: Redis, type: BigType): Promise<void> {
  const key = keyOf(type);
  for (let i = 0; i < ELEMENTS; i += 8) {
    const p = client.pipeline();
    for (let j = i; j < i + 8; j++) {
      const e = element(j);
      if (type === 'list') p.rpush(key, e);
      else if (type === 'hash') p.hset(key, `field:${j}`, e);
      else if (type === 'set') p.sadd(key, e);
      else if (type === 'zset') p.zadd(key, j, e);
      else if (type === 'string') p.append(key, e);
      else p.xadd(key, `${j + 1}-0`, 'payload', e);
    }
    await p.exec();
  }
}

/** Changes element ELEMENTS/2 (same size), or for a stream deletes that entry. */
async function changeMiddle(client: Redis, type: BigType): Promise<void> {
  const key = keyOf(type);
  const m = ELEMENTS / 2;
  const changed = element(m, 1);
  if (type === 'list') await client.lset(key, m, changed);
  else if (type === 'hash') await client.hset(key, `field:${m}`, changed);
  else if (type === 'set') await client.pipeline().srem(key, element(m)).sadd(key, changed).exec();
  else if (type === 'zset') await client.pipeline().zrem(key, element(m)).zadd(key, m, changed).exec();
  else if (type === 'string') await client.setrange(key, m * MiB + MiB / 2, Buffer.from([0, 0, 0, 1]));
  else await client.xdel(key, `${m + 1}-0`);
}

/**
 * Independent of verify's code: a fingerprint of the key read one element at a time with ioredis
 * (members sorted by their hash for sets, so server order does not matter).
 */
async function fingerprint(client: Redis, type: BigType): Promise<string> {
  const key = keyOf(type);
  const h = createHash('sha256');
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  if (type === 'list') {
    for (let i = 0; i < (await client.llen(key)); i++) h.update(sha((await client.lindexBuffer(key, i))!));
  } else if (type === 'hash') {
    const fields = (await client.hkeys(key)).sort();
    for (const f of fields) h.update(`${f}=${sha((await client.hgetBuffer(key, f))!)};`);
  } else if (type === 'set') {
    const members: string[] = [];
    for (let cursor = '0'; ; ) {
      const [next, page] = await client.sscanBuffer(key, cursor, 'COUNT', 1);
      members.push(...page.map(sha));
      cursor = String(next);
      if (cursor === '0') break;
    }
    h.update([...new Set(members)].sort().join(','));
  } else if (type === 'zset') {
    for (let i = 0; i < (await client.zcard(key)); i++) {
      const [member, score] = await client.zrangeBuffer(key, i, i, 'WITHSCORES');
      h.update(`${sha(member!)}:${score!.toString()};`);
    }
  } else if (type === 'string') {
    const length = await client.strlen(key);
    for (let at = 0; at < length; at += MiB) h.update(await client.getrangeBuffer(key, at, at + MiB - 1));
  } else {
    for (let id = 1; id <= ELEMENTS; id++) {
      const entry = await client.xrangeBuffer(key, `${id}-0`, `${id}-0`);
      if (entry[0]) h.update(`${id}:${sha(entry[0][1][1]!)};`);
    }
  }
  return h.digest('hex');
}

let source: RedisServer;
let target: RedisServer;
let src: Redis;
let tgt: Redis;

before(async () => {
  [source, target] = await Promise.all([startRedis(), startRedis()]);
  src = await source.client();
  tgt = await target.client();
});

after(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
});

const mb = (bytes: number) => `${Math.round(bytes / MiB)} MB`;

async function verifyCli(...extra: string[]) {
  const run = await runCli(['verify', source.url, target.url, '--json', '--recheck-rounds', '0', ...extra]);
  assert.ok(run.peakRssBytes > 0, 'peak RSS not sampled');
  return { ...run, report: jsonReport(run.stdout) };
}

describe('verify: one big key of 1 MiB elements, bounded memory', () => {
  for (const type of TYPES) {
    it(`${type}: identical, then one changed element found, peak RSS under the bound`, async (t) => {
      await Promise.all([src.flushall(), tgt.flushall()]);
      await Promise.all([writeBigKey(src, type), writeBigKey(tgt, type)]);
      assert.equal(await fingerprint(src, type), await fingerprint(tgt, type), 'premise: same data');

      const same = await verifyCli();
      assert.equal(same.code, 0, same.stdout + same.stderr);
      assert.equal(same.report.identical, true);
      t.diagnostic(`${type}: peak RSS ${mb(same.peakRssBytes)}`);
      assert.ok(same.peakRssBytes < PEAK_RSS_BOUND, `${type}: peak RSS ${mb(same.peakRssBytes)}`);

      if (type === 'list' || type === 'hash') {
        // No DUMP, no MEMORY USAGE hint when the size probe is off: the key is met in the
        // first-chunk pipeline, whose byte cap cuts it off.
        const digest = await verifyCli('--compare-by', 'digest', '--big-key-threshold', '0');
        assert.equal(digest.code, 0, digest.stdout + digest.stderr);
        t.diagnostic(`${type} --compare-by digest, no size probe: peak RSS ${mb(digest.peakRssBytes)}`);
        assert.ok(
          digest.peakRssBytes < PEAK_RSS_BOUND,
          `${type} digest: peak RSS ${mb(digest.peakRssBytes)}`,
        );
      }

      await changeMiddle(tgt, type);
      assert.notEqual(await fingerprint(src, type), await fingerprint(tgt, type), 'premise: changed');
      const diff = await verifyCli();
      assert.equal(diff.code, 1, diff.stdout + diff.stderr);
      const value = (diff.report.differences as Record<string, { samples: { key: string }[] }>).value;
      assert.deepEqual(
        value.samples.map((s) => s.key),
        [keyOf(type)],
      );
      assert.ok(diff.peakRssBytes < PEAK_RSS_BOUND, `${type} changed: peak RSS ${mb(diff.peakRssBytes)}`);
    });
  }
});
