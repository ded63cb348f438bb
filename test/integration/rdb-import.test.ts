// migration-buddy import with RDB files written by each server version the suite has (RDB 10,
// 11, 12): the reader's payloads equal what the writing server DUMPs for each key, and the target
// holds the same data as the server that wrote the file, by the independent comparison. Targets
// that cannot RESTORE the file's RDB version get the values by type (decoded, native commands).
import assert from 'node:assert/strict';
import { copyFileSync, createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type RdbEntry, readRdb } from '../../src/engine/rdb/index.js';
import { jsonReport, runCli } from '../harness/cli.js';
import { compareServers } from '../harness/compare.js';
import { type RedisServer, type ServerName, serverUnavailable, startRedis } from '../harness/redis-server.js';
import { EXPIRED_WAIT_MS, FIELD_TTL_KEYS, LIBRARY, writeDataset } from './rdb-import-support/dataset.js';

const RDB_OF: Record<ServerName, number> = { 'redis-7.0': 10, 'valkey-8.1': 11, 'redis-8.0': 12 };
/** Other targets for each writer's RDB: by RESTORE where they read it, by type where they do not. */
const CROSS: Record<ServerName, ServerName[]> = {
  'redis-7.0': ['valkey-8.1', 'redis-8.0'],
  'valkey-8.1': ['redis-8.0', 'redis-7.0'],
  'redis-8.0': ['redis-7.0', 'valkey-8.1'],
};
/** Pairs whose target cannot RESTORE the writer's payloads (older RDB, or Valkey facing RDB 12). */
const BY_TYPE = new Set(['valkey-8.1>redis-7.0', 'redis-8.0>redis-7.0', 'redis-8.0>valkey-8.1']);
/** Targets without hash field TTLs: the file's go as persistent fields (--drop-field-ttls). */
const NO_FIELD_TTLS = new Set<ServerName>(['redis-7.0', 'valkey-8.1']);

const scratch = mkdtempSync(join(tmpdir(), 'mb-rdb-import-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

for (const name of Object.keys(RDB_OF) as ServerName[]) {
  const missing = await serverUnavailable(name);
  describe(`import of an RDB ${RDB_OF[name]} file written by ${name}`, { skip: missing }, () => {
    let source: RedisServer;
    let file: string;
    let fieldTtls = false;

    before(async () => {
      source = await startRedis({ server: name });
      const dataset = await writeDataset(source);
      fieldTtls = dataset.fieldTtls;
      file = join(scratch, `${name}.rdb`);
      copyFileSync(dataset.file, file);
    });
    after(async () => source?.stop());

    test('every entry is the DUMP payload and the expiry the writing server has for that key', async () => {
      const c = await source.client();
      const entries: RdbEntry[] = [];
      let version = 0;
      let functions = 0;
      const reader = await readRdb(createReadStream(file, { highWaterMark: 4096 }), (e) => {
        if (e.kind === 'entry') entries.push(e.entry);
        if (e.kind === 'header') version = e.version;
        if (e.kind === 'function') {
          functions++;
          assert.equal(e.code.toString(), LIBRARY);
        }
      });
      assert.equal(version, RDB_OF[name]);
      assert.equal(functions, 1);
      assert.ok(reader.done);
      const types = new Set(entries.map((e) => e.type));
      // listpack/ziplist and hash table forms, intset, quicklist, streams: the dataset's point.
      for (const t of name === 'redis-7.0'
        ? [0, 2, 4, 5, 11, 16, 17, 18, 19]
        : [0, 2, 4, 5, 11, 16, 17, 18, 20, 21])
        assert.ok(types.has(t), `type ${t} in ${[...types].sort((a, b) => a - b).join(',')}`);
      if (fieldTtls) assert.ok(types.has(24) && types.has(25), 'hash field TTL types 24 and 25');
      let withTtl = 0;
      for (const e of entries) {
        await c.select(e.db);
        const dump = (await c.callBuffer('DUMP', e.key)) as Buffer | null;
        if (dump === null) {
          assert.ok(
            e.expireAtMs !== null && e.expireAtMs <= Date.now() + 50,
            `key ${e.key} gone but not expiring`,
          );
          continue;
        }
        assert.ok(dump.equals(e.payload), `payload of db${e.db} ${e.key.toString('latin1').slice(0, 40)}`);
        const at = Number(await c.call('PEXPIRETIME', e.key));
        assert.equal(e.expireAtMs ?? -1, at, `expiry of ${e.key}`);
        if (at > 0) withTtl++;
      }
      assert.ok(withTtl >= 5);
      await c.select(0);
    });

    const targets: ServerName[] = [name, ...CROSS[name]];
    for (const targetName of targets) {
      test(`imported into ${targetName}: the same data, TTLs, functions and databases`, async (t) => {
        const skip = await serverUnavailable(targetName);
        if (skip) return t.skip(skip);
        const target = await startRedis({ server: targetName });
        try {
          // The key that expires soon is in the file with its expiry, which is past by now.
          await new Promise((r) => setTimeout(r, EXPIRED_WAIT_MS));
          const byType = BY_TYPE.has(`${name}>${targetName}`);
          const dropTtls = fieldTtls && NO_FIELD_TTLS.has(targetName);
          const args = ['import', file, target.url, '--json', ...(dropTtls ? ['--drop-field-ttls'] : [])];
          const run = await runCli(args);
          assert.equal(run.code, 0, run.stderr + run.stdout);
          assert.equal(run.stdout.trim().split('\n').length, 1, 'one JSON document on stdout');
          const report = jsonReport(run.stdout);
          assert.equal(report.writeMethod, byType ? 'by-type' : 'restore');
          if (byType) assert.match(String(report.writeMethodReason), /reads RDB \d+ and the file is RDB \d+/);
          // hfe:small has 1 field TTL, hfe:big 2, in db 0.
          assert.equal(report.fieldTtlsDropped, dropTtls ? 3 : 0);
          assert.equal(report.checksum, 'ok');
          assert.equal(report.complete, true);
          assert.equal(report.keysFailed, 0);
          assert.ok(Number(report.keysExpired) >= 1, 'the expired key is skipped');
          assert.deepEqual(
            (report.dbs as { db: number }[]).map((d) => d.db),
            [0, 3, 15],
          );
          assert.equal((report.functions as { loaded: number }).loaded, 1);
          const diffs = await compareServers(source, target);
          // Dropped field TTLs are the one difference allowed, and only where asked for.
          const expected = dropTtls ? FIELD_TTL_KEYS.map((k) => `db0 ${k}`) : [];
          assert.deepEqual(
            diffs
              .map((d) => d.replace(/: \d+ field TTLs on the first server, none possible on the other$/, ''))
              .sort(),
            expected.sort(),
          );
          const tc = await target.client();
          assert.equal(await tc.call('FCALL', 'rdbfn', 0), 'rdb');
          assert.equal(await tc.exists('str:expires-soon'), 0);
          if (fieldTtls && targetName === 'redis-8.0') {
            const sc = await source.client();
            for (const key of FIELD_TTL_KEYS) {
              const fields = key === 'hfe:small' ? ['a', 'b'] : ['f1', 'f500', 'f2'];
              const want = (await sc.call(
                'HPEXPIRETIME',
                key,
                'FIELDS',
                fields.length,
                ...fields,
              )) as number[];
              const got = (await tc.call(
                'HPEXPIRETIME',
                key,
                'FIELDS',
                fields.length,
                ...fields,
              )) as number[];
              assert.deepEqual(got, want, `field expiry times of ${key}`);
              assert.ok(want.some((v) => v > 0));
            }
          }
        } finally {
          await target.stop();
        }
      });
    }
  });
}
