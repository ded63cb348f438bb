// Hash field TTLs (HPEXPIRE) across real servers: Redis 8.0 has them, Redis 7.0 and Valkey 8.1 do
// not. Same version: DUMP/RESTORE and the by-type copy (HPEXPIREAT, chunked big hashes too) carry
// them, verify says identical and finds one changed field TTL. Towards a server without them:
// plan blocks with the count, copy exits 1 having copied nothing, and --drop-field-ttls copies
// the fields as persistent, as the plan warns. From 7.0 to 8.0 there is nothing to carry. The
// independent comparison (test/harness/compare.ts, HPTTL with plain ioredis) checks every copy.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { copyKeySet } from '../../src/engine/copy/index.js';
import { LiveSync, type LiveSyncError } from '../../src/engine/live-sync/index.js';
import { verify } from '../../src/engine/verify/index.js';
import { probeFieldTtls } from '../../src/probe/field-ttls.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { jsonReport, runCli } from '../harness/cli.js';
import { compareServers } from '../harness/compare.js';
import { scriptedMigrateArgs, writeMigrateConfig } from '../harness/migrate-run.js';
import { type RedisServer, serverUnavailable, startRedis } from '../harness/redis-server.js';

const missing8 = await serverUnavailable('redis-8.0');
const missingValkey = await serverUnavailable('valkey-8.1');
const HOUR = 3_600_000;
/** Hashes with field TTLs in the fixture (INFO keyspace's subexpiry says the same). */
const FIELD_TTL_HASHES = 2;

/** A small hash (listpack) and a bigger one (hashtable) with field TTLs, a plain hash, a string. */
async function fill(server: RedisServer): Promise<{ at: number }> {
  const c = await server.client();
  const at = Date.now() + HOUR;
  await c.hset('small', 'a', '1', 'b', '2', 'keep', '3');
  await c.call('HPEXPIREAT', 'small', at, 'FIELDS', 2, 'a', 'b');
  const fields = Array.from({ length: 40 }, (_, i) => [`f${i}`, `v${i}`]).flat();
  await c.hset(Buffer.from([0xff, 0x00, 0x68]), ...fields);
  await c.call('HPEXPIREAT', Buffer.from([0xff, 0x00, 0x68]), at + 5000, 'FIELDS', 3, 'f0', 'f1', 'f2');
  await c.hset('plain', 'x', '1');
  await c.set('s', 'v', 'PX', HOUR);
  return { at };
}

async function fieldExpiries(c: Redis, key: string | Buffer, fields: string[]): Promise<number[]> {
  return (await c.call('HPEXPIRETIME', key, 'FIELDS', fields.length, ...fields)) as number[];
}

// Small listpack limits make the 40-field hash a hashtable (RDB_TYPE_HASH_METADATA) on Redis 8.
const redis8 = () => startRedis({ server: 'redis-8.0', configLines: ['hash-max-listpack-entries 16'] });

describe('hash field TTLs, Redis 8.0 -> Redis 8.0', { skip: missing8 }, () => {
  let source: RedisServer;
  let target: RedisServer;
  let at: number;
  before(async () => {
    [source, target] = await Promise.all([redis8(), redis8()]);
    ({ at } = await fill(source));
  });
  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  test('the probe counts the hashes from INFO keyspace', async () => {
    const r = await runCli(['probe', source.url, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const probe = JSON.parse(r.stdout) as { fieldTtls: unknown };
    assert.deepEqual(probe.fieldTtls, {
      supported: true,
      hashes: FIELD_TTL_HASHES,
      counted: 'info-keyspace',
      perDb: [{ db: 0, hashes: FIELD_TTL_HASHES }],
    });
  });

  test('where INFO keyspace does not count them, a sample finds them and says so', async () => {
    const c = await source.client();
    const notes: string[] = [];
    // The databases as a server that reports no count would list them.
    const facts = await probeFieldTtls(c, [{ db: 0, keys: 4, expires: 1, avgTtlMs: 0 }], 0, notes);
    assert.deepEqual(facts, {
      supported: true,
      counted: 'sampled',
      hashes: FIELD_TTL_HASHES,
      sampledHashes: 3,
      sampledAll: true,
      perDb: [{ db: 0, hashes: FIELD_TTL_HASHES }],
    });
    assert.match(notes.join('\n'), /3 hashes were sampled .* 2 with field TTLs/);
  });

  test('DUMP/RESTORE carries field TTLs; verify says identical, then finds one changed field TTL', async () => {
    const copy = await runCli(['copy', source.url, target.url]);
    assert.equal(copy.code, 0, copy.stdout + copy.stderr);
    const t = await target.client();
    assert.deepEqual(await fieldExpiries(t, 'small', ['a', 'b', 'keep']), [at, at, -1]);
    assert.deepEqual(await compareServers(source, target), []);

    const same = await runCli(['verify', source.url, target.url, '--json']);
    assert.equal(same.code, 0, same.stdout + same.stderr);
    assert.equal(jsonReport(same.stdout).identical, true);

    await t.call('HPEXPIREAT', Buffer.from([0xff, 0x00, 0x68]), at + 5000 + HOUR, 'FIELDS', 1, 'f1');
    const changed = await runCli(['verify', source.url, target.url, '--json', '--recheck-rounds', '0']);
    assert.equal(changed.code, 1, changed.stdout + changed.stderr);
    const report = jsonReport(changed.stdout) as {
      differences: Record<string, { count: number; samples: { detail: string }[] }>;
    };
    assert.equal(report.differences['field-ttl']!.count, 1, JSON.stringify(report.differences));
    assert.match(
      report.differences['field-ttl']!.samples[0]!.detail,
      /field "f1" expires 3600\.0 s later on the target/,
    );
    assert.equal(report.differences['value']!.count, 0);
    const independent = await compareServers(source, target);
    assert.equal(independent.length, 1, independent.join('\n'));
    assert.match(independent[0]!, /field f1 ttl/);
    // Type-aware, 8 fields a page: the 40-field hash is walked page by page, and found all the same.
    const paged = await verify(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
      dbs: [0],
      compareBy: 'digest',
      chunkSize: 8,
      recheckRounds: 0,
    });
    assert.equal(paged.differences['field-ttl'].count, 1, JSON.stringify(paged.differences));
    assert.equal(paged.differentKeys, 1);
  });

  for (const [path, args, line] of [
    ['in one transaction', [], /copied with native commands \(by type\): 4/],
    // A 64-byte threshold sends the hashes through the chunked path (temporary key + RENAME).
    ['in chunks', ['--big-key-threshold', '64'], /big keys copied in chunks: [1-9]/],
  ] as const) {
    test(`the by-type copy (HPEXPIREAT) carries them exactly, ${path}`, async () => {
      const byType = await startRedis({ server: 'redis-8.0' });
      try {
        const copy = await runCli(['copy', source.url, byType.url, '--by-type', ...args]);
        assert.equal(copy.code, 0, copy.stdout + copy.stderr);
        assert.match(copy.stdout, line);
        const t = await byType.client();
        assert.deepEqual(await fieldExpiries(t, 'small', ['a', 'b', 'keep']), [at, at, -1]);
        assert.deepEqual(await fieldExpiries(t, Buffer.from([0xff, 0x00, 0x68]), ['f0', 'f1', 'f2', 'f3']), [
          at + 5000,
          at + 5000,
          at + 5000,
          -1,
        ]);
        assert.deepEqual(await compareServers(source, byType), []);
        const verify = await runCli(['verify', source.url, byType.url]);
        assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      } finally {
        await byType.stop();
      }
    });
  }
});

for (const [name, missing] of [
  ['redis-7.0', missing8],
  ['valkey-8.1', missing8 ?? missingValkey],
] as const) {
  describe(`hash field TTLs, Redis 8.0 -> ${name} (no field TTLs)`, { skip: missing }, () => {
    let source: RedisServer;
    let target: RedisServer;
    before(async () => {
      [source, target] = await Promise.all([redis8(), startRedis({ server: name })]);
      await fill(source);
    });
    after(async () => {
      await Promise.all([source?.stop(), target?.stop()]);
    });

    test('plan blocks with the count; --drop-field-ttls makes it a warning', async () => {
      const blocked = await runCli(['plan', source.url, target.url]);
      assert.equal(blocked.code, 1, blocked.stdout + blocked.stderr);
      assert.match(
        blocked.stdout,
        /the source has 2 hashes with per-field TTLs \(db 0: 2; counted by INFO keyspace\) but the target .* has no hash field TTLs/,
      );
      const dropped = await runCli(['plan', source.url, target.url, '--drop-field-ttls', '--json']);
      assert.equal(dropped.code, 0, dropped.stdout + dropped.stderr);
      const plan = JSON.parse(dropped.stdout) as { warnings: { code: string; message: string }[] };
      const warning = plan.warnings.find((w) => w.code === 'field-ttls-dropped');
      assert.match(warning?.message ?? '', /become persistent on the target/);
    });

    test('copy refuses without the flag and copies nothing; with it the fields are persistent', async () => {
      const refused = await runCli(['copy', source.url, target.url]);
      assert.equal(refused.code, 1, refused.stdout + refused.stderr);
      assert.match(refused.stderr, /copy refused: .* 2 hashes with per-field TTLs .* --drop-field-ttls/);
      const t = await target.client();
      assert.equal(await t.dbsize(), 0);

      const copied = await runCli(['copy', source.url, target.url, '--drop-field-ttls']);
      assert.equal(copied.code, 0, copied.stdout + copied.stderr);
      assert.match(copied.stdout, /hash fields copied without their TTL .*: 5/);
      assert.deepEqual(await t.hgetall('small'), { a: '1', b: '2', keep: '3' });
      // Everything but the field TTLs is equal: the independent comparison names exactly those.
      const diffs = await compareServers(source, target);
      assert.deepEqual(
        diffs.sort(),
        [
          'db0 small: 2 field TTLs on the first server, none possible on the other',
          `db0 ${Buffer.from([0xff, 0x00, 0x68]).toString('latin1')}: 3 field TTLs on the first server, none possible on the other`,
        ].sort(),
      );
    });

    test("live sync's key-set copy refuses such a hash, or drops its field TTLs when asked", async () => {
      const endpoints = {
        source: parseEndpointUrl(source.url, 'source'),
        target: parseEndpointUrl(target.url, 'target'),
      };
      const refused = await copyKeySet(endpoints.source, endpoints.target, 0, [Buffer.from('small')]);
      assert.equal(refused.keysFailed, 1);
      assert.match(refused.errors[0]!.reason, /2 fields with a TTL and the target has no hash field TTLs/);
      const dropped = await copyKeySet(endpoints.source, endpoints.target, 0, [Buffer.from('small')], {
        dropFieldTtls: true,
      });
      assert.equal(dropped.keysFailed, 0);
      assert.equal(dropped.fieldTtlsDropped, 2);
    });

    test('live sync stops on a hash given a field TTL while it follows, saying why', async () => {
      const c = await source.client();
      await c.config('SET', 'notify-keyspace-events', 'KEA');
      let failure: LiveSyncError | undefined;
      const ls = new LiveSync(
        parseEndpointUrl(source.url, 'source'),
        parseEndpointUrl(target.url, 'target'),
        {
          dbs: [0],
          onError: (err) => {
            failure = err;
          },
        },
      );
      await ls.start();
      try {
        await c.hset('later', 'f', '1', 'g', '2');
        await c.call('HPEXPIRE', 'later', HOUR, 'FIELDS', 1, 'f');
        const deadline = Date.now() + 15_000;
        while (!failure && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        assert.ok(failure, 'live sync did not stop');
        assert.equal(failure.final, true);
        assert.match(
          failure.message,
          /live sync stopped: db 0 key "later": hash has 1 field with a TTL .* --drop-field-ttls/,
        );
      } finally {
        await ls.stop().catch(() => undefined);
      }
    });
  });
}

describe('hash field TTLs, migrate Redis 8.0 -> Redis 7.0', { skip: missing8 }, () => {
  test('migrate is refused by its plan without --drop-field-ttls; with it the run copies persistent fields', async () => {
    const [source, target, control] = await Promise.all([
      redis8(),
      startRedis({ server: 'redis-7.0' }),
      startRedis({ server: 'redis-7.0' }),
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'mb-field-ttls-'));
    try {
      await fill(source);
      const config = join(dir, 'migration-buddy.yml');
      writeMigrateConfig(config, { source, target, control });
      const env = { CONTROL_REDIS_URL: '' };
      const refused = await runCli(scriptedMigrateArgs(config, 'dump-restore'), env);
      assert.equal(refused.code, 1, refused.stdout + refused.stderr);
      assert.match(refused.stdout, /2 hashes with per-field TTLs .* --drop-field-ttls/);
      assert.equal(await (await target.client()).dbsize(), 0);

      const run = await runCli([...scriptedMigrateArgs(config, 'dump-restore'), '--drop-field-ttls'], env);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /5 hash fields copied without their TTL/);
      assert.deepEqual(await (await target.client()).hgetall('small'), { a: '1', b: '2', keep: '3' });
      assert.deepEqual(
        (await compareServers(source, target)).length,
        2,
        'only the two hashes differ, by their field TTLs',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await Promise.all([source.stop(), target.stop(), control.stop()]);
    }
  });
});

describe('hash field TTLs, Redis 7.0 -> Redis 8.0 (nothing to carry)', { skip: missing8 }, () => {
  test('plan has no field-TTL finding, copy and verify agree, no field has a TTL', async () => {
    const [source, target] = await Promise.all([startRedis({ server: 'redis-7.0' }), redis8()]);
    try {
      const c = await source.client();
      await c.hset('h', 'a', '1', 'b', '2');
      await c.set('s', 'v');
      const plan = await runCli(['plan', source.url, target.url, '--json']);
      const parsed = JSON.parse(plan.stdout) as {
        blockers: { code: string }[];
        warnings: { code: string }[];
      };
      const codes = [...parsed.blockers, ...parsed.warnings]
        .map((f) => f.code)
        .filter((c) => c.includes('field-ttl'));
      assert.deepEqual(codes, []);
      const copy = await runCli(['copy', source.url, target.url]);
      assert.equal(copy.code, 0, copy.stdout + copy.stderr);
      assert.deepEqual(await fieldExpiries(await target.client(), 'h', ['a', 'b']), [-1, -1]);
      assert.deepEqual(await compareServers(source, target), []);
      const verify = await runCli(['verify', source.url, target.url]);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    } finally {
      await Promise.all([source.stop(), target.stop()]);
    }
  });
});
