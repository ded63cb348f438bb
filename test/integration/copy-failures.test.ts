import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CopyStoppedError, copyKeys, fileCheckpointStore } from '../../src/engine/copy/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { UserError } from '../../src/util/errors.js';
import { compareServers } from '../harness/compare.js';
import { freePort, type RedisServer, startRedis } from '../harness/redis-server.js';
import { killCopierConnections } from './copy-fixtures.js';

async function fill(server: RedisServer, n: number, valueBytes = 100): Promise<void> {
  const c = await server.client();
  const value = 'v'.repeat(valueBytes);
  for (let i = 0; i < n; i += 1000) {
    const p = c.pipeline();
    for (let j = i; j < Math.min(n, i + 1000); j++) p.set(`key:${j}`, value);
    await p.exec();
  }
}

describe('copy: failures', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mb-copy-fail-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('an unreachable target is reported at once (exit code 2)', async () => {
    const source = await startRedis();
    try {
      const port = await freePort();
      const err = await copyKeys(
        parseEndpointUrl(source.url),
        parseEndpointUrl(`redis://:secret-pw@127.0.0.1:${port}`, 'new-home'),
        { dbs: 'all', onNonEmptyTarget: 'refuse' },
      ).catch((e: unknown) => e);
      assert.ok(err instanceof UserError);
      assert.equal(err.exitCode, 2);
      assert.match(err.message, /cannot reach new-home .*connection refused/);
      assert.doesNotMatch(err.message, /secret-pw/);
    } finally {
      await source.stop();
    }
  });

  test('copying a server onto itself is refused, even under another name', async () => {
    const server = await startRedis();
    try {
      await (await server.client()).set('k', 'v');
      await assert.rejects(
        copyKeys(
          parseEndpointUrl(server.url, 'a'),
          parseEndpointUrl(`redis://localhost:${server.port}`, 'b'),
          {
            dbs: 'all',
            onNonEmptyTarget: 'flush',
          },
        ),
        /a .* and b .* are the same server/,
      );
      assert.equal(await (await server.client()).get('k'), 'v');
    } finally {
      await server.stop();
    }
  });

  test('target out of memory stops the run with a clear error and a checkpoint; a rerun finishes', async () => {
    const source = await startRedis();
    const target = await startRedis({ configLines: ['maxmemory 3mb', 'maxmemory-policy noeviction'] });
    try {
      await fill(source, 30_000);
      const file = join(dir, 'oom.json');
      const store = fileCheckpointStore(file);
      const run = () =>
        copyKeys(parseEndpointUrl(source.url, 'old'), parseEndpointUrl(target.url, 'new'), {
          dbs: 'all',
          onNonEmptyTarget: 'refuse',
          checkpoint: store,
          batchSize: 500,
        });
      const err = await run().catch((e: unknown) => e);
      assert.ok(err instanceof CopyStoppedError, String(err));
      assert.equal(err.exitCode, 1);
      assert.match(err.message, /the target new .* is out of memory \(OOM command not allowed/);
      assert.match(err.message, /run the same copy again to resume/);
      const saved = await store.load();
      assert.ok(saved);
      assert.equal(saved.complete, false);
      assert.equal(saved.targetPrepared, true);
      assert.ok(saved.counters.keysCopied > 0 && saved.counters.keysCopied < 30_000);
      assert.equal(err.report.keysCopied, saved.counters.keysCopied);

      await (await target.client()).config('SET', 'maxmemory', '0');
      const report = await run();
      assert.equal(report.complete, true);
      assert.equal(report.resumed, true);
      assert.deepEqual(await compareServers(source, target), []);
      assert.ok(report.keysCopied >= 30_000);
    } finally {
      await source.stop();
      await target.stop();
    }
  });

  test('dropped connections are re-established and the copy completes', async () => {
    const source = await startRedis();
    const target = await startRedis();
    try {
      await fill(source, 30_000);
      let seen = 0;
      const killing: Promise<number>[] = [];
      const report = await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
        dbs: 'all',
        onNonEmptyTarget: 'refuse',
        batchSize: 200,
        // The payload hook runs mid-copy: a deterministic moment to cut connections.
        transformPayload: (_key, payload) => {
          seen++;
          if (seen === 1000) killing.push(killCopierConnections(target, 'copy-target'));
          if (seen === 8000) killing.push(killCopierConnections(source, 'copy-source'));
          return payload;
        },
      });
      const killed = await Promise.all(killing);
      assert.deepEqual(killed, [1, 1]);
      assert.equal(report.complete, true);
      assert.deepEqual(await compareServers(source, target), []);
    } finally {
      await source.stop();
      await target.stop();
    }
  });

  test('a target that goes away for good stops the run after a few reconnects (exit code 2)', async () => {
    const source = await startRedis();
    const target = await startRedis();
    try {
      await fill(source, 30_000);
      let killed = false;
      const err = await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url, 'new'), {
        dbs: 'all',
        onNonEmptyTarget: 'refuse',
        batchSize: 200,
        maxReconnects: 2,
        transformPayload: (_key, payload) => {
          if (!killed) {
            killed = true;
            target.kill();
          }
          return payload;
        },
      }).catch((e: unknown) => e);
      assert.ok(killed);
      assert.ok(err instanceof CopyStoppedError, String(err));
      assert.equal(err.exitCode, 2);
      assert.match(err.message, /gave up after 2 reconnect attempts/);
      assert.match(err.message, /new/);
    } finally {
      await source.stop();
      await target.stop();
    }
  });

  test('abort stops after the batches in flight; the checkpoint resumes it', async () => {
    const source = await startRedis();
    const target = await startRedis();
    try {
      await fill(source, 20_000);
      const store = fileCheckpointStore(join(dir, 'abort.json'));
      const controller = new AbortController();
      let seen = 0;
      const first = await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
        dbs: 'all',
        onNonEmptyTarget: 'refuse',
        checkpoint: store,
        batchSize: 100,
        signal: controller.signal,
        transformPayload: (_key, payload) => {
          if (++seen === 3000) controller.abort();
          return payload;
        },
      });
      assert.equal(first.complete, false);
      assert.ok(first.keysCopied >= 3000 && first.keysCopied < 20_000, `${first.keysCopied} copied`);
      const saved = await store.load();
      assert.equal(saved?.counters.keysCopied, first.keysCopied);
      const second = await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
        dbs: 'all',
        onNonEmptyTarget: 'refuse',
        checkpoint: store,
      });
      assert.equal(second.complete, true);
      assert.equal(second.resumed, true);
      assert.ok(second.keysCopied >= 20_000);
      assert.deepEqual(await compareServers(source, target), []);
    } finally {
      await source.stop();
      await target.stop();
    }
  });

  test('per-key errors are collected with printable key names; the copy goes on', async () => {
    const source = await startRedis();
    const target = await startRedis({ configLines: ['user copier on >copier-pw ~allowed:* +@all'] });
    try {
      const c = await source.client();
      await c.set('allowed:1', 'x');
      await c.set('allowed:2', 'y');
      await c.set('denied', 'z');
      await c.set(Buffer.from([0x64, 0xff, 0x00, 0x5c]), 'binary');
      const report = await copyKeys(
        parseEndpointUrl(source.url),
        parseEndpointUrl(target.urlFor('copier', 'copier-pw')),
        { dbs: 'all', onNonEmptyTarget: 'refuse' },
      );
      assert.equal(report.keysCopied, 2);
      assert.equal(report.keysFailed, 2);
      assert.equal(report.complete, true);
      const errors = report.errors.map((e) => `${e.db}:${e.key}`).sort();
      assert.deepEqual(errors, ['0:d\\xff\\x00\\\\', '0:denied']);
      for (const e of report.errors) assert.match(e.reason, /RESTORE: NOPERM/);
    } finally {
      await source.stop();
      await target.stop();
    }
  });
});
