// Source and target faults under live sync (issue #10), with the app writing to the source: a
// source that becomes a replica or is flushed fails live sync before anything more reaches the
// target, which keeps what it had (compared with a snapshot taken before the fault, by the
// independent reader of test/harness/compare.ts); a target that restarts empty is copied again.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LiveSync, type LiveSyncError } from '../../src/engine/live-sync/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { type AppHandle, checkAcknowledged, startApp, writeEndpointFile } from '../harness/app/index.js';
import { compareSnapshots, snapshotDb } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { ackedBefore, assertSeedIntact, restartEmpty, seed } from './faults-support.js';

const NOTIFY_ON = ['notify-keyspace-events KEA'];

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

type Snapshot = Awaited<ReturnType<typeof snapshotDb>>;

/** Differences between two snapshots of one target, leaving out what time alone changes (TTLs). */
function changedBetween(before: Snapshot, after: Snapshot): string[] {
  const lasting = new Map([...before].filter(([, v]) => v.pttl === -1 || v.pttl > 30_000));
  const later = new Map([...after].filter(([k]) => lasting.has(k) || !before.has(k)));
  return compareSnapshots(lasting, later, 0, { ttlToleranceMs: 30_000 });
}

describe('live sync: source and target faults', () => {
  let dir: string;
  const servers: RedisServer[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mb-faults-ls-'));
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  });
  const server = async (configLines: string[] = []) => {
    const s = await startRedis({ configLines });
    servers.push(s);
    return s;
  };

  async function setUp() {
    const source = await server(NOTIFY_ON);
    const target = await server();
    await seed(source, 2000);
    await (await target.client()).flushall();
    const file = join(dir, `app-${Date.now()}.url`);
    writeEndpointFile(file, source.url);
    let failure: LiveSyncError | undefined;
    const ls = new LiveSync(parseEndpointUrl(source.url, 'old'), parseEndpointUrl(target.url, 'new'), {
      dbs: [0],
      reconcileOnStart: true,
      keyspaceCheckIntervalMs: 100,
      onError: (err) => {
        failure = err;
      },
    });
    await ls.start();
    const app: AppHandle = await startApp({ endpointFile: file, rate: 300, dir });
    await waitFor('the reconcile pass and some app writes', async () => {
      const s = ls.status();
      return s.rescans >= 1 && s.keysApplied > 50;
    });
    await ls.drain({ timeoutMs: 15_000 });
    return { source, target, ls, app, failure: () => failure };
  }

  test('the source becomes a replica: live sync fails and the target keeps what it had', async () => {
    const { source, target, ls, app, failure } = await setUp();
    const other = await server();
    // The other server's data collides with the source's keys and lacks most of them.
    await (await other.client()).set('seed:1', 'from the other server');
    const t = await target.client();
    let appReport: Awaited<ReturnType<AppHandle['stop']>>;
    try {
      await new Promise((r) => setTimeout(r, 2000)); // the app writes a while
      // The app's writes are refused from here on (READONLY).
      const turnedAt = Date.now();
      await (await source.client()).call('REPLICAOF', '127.0.0.1', String(other.port));
      await waitFor('live sync to fail', () => failure() !== undefined);
      const before = await snapshotDb(t, 0);
      appReport = await app.stop();
      await new Promise((r) => setTimeout(r, 500)); // nothing may arrive late
      const err = failure()!;
      assert.equal(err.final, true);
      assert.match(
        err.message,
        new RegExp(`the source old .* became a replica of 127\\.0\\.0\\.1:${other.port}`),
      );
      assert.match(err.message, /nothing more was applied to the target; the target keeps what it had/);
      assert.equal(ls.status().state, 'failed');
      // Nothing was deleted or overwritten (seed:1 would be the other server's): every seed key,
      // the app's writes acknowledged well before the change, and nothing changed after the failure.
      await assertSeedIntact(target, 2000);
      const acked = await checkAcknowledged(await ackedBefore(appReport, turnedAt - 1000), target.url);
      assert.ok(acked.checked > 100, `${acked.checked} writes checked`);
      assert.ok(acked.ok, JSON.stringify(acked.missing.slice(0, 5)));
      assert.deepEqual(changedBetween(before, await snapshotDb(t, 0)), []);
      await ls.stop();
    } finally {
      await (await source.client()).call('REPLICAOF', 'NO', 'ONE');
    }
  });

  test('the source is flushed: live sync fails instead of emptying the target', async () => {
    const { source, target, ls, app, failure } = await setUp();
    const t = await target.client();
    await new Promise((r) => setTimeout(r, 300)); // a keyspace check sees the full db
    const appReport = await app.stop();
    await ls.drain({ timeoutMs: 15_000 });
    const before = await snapshotDb(t, 0);
    await (await source.client()).flushall();
    await waitFor('live sync to fail', () => failure() !== undefined);
    await new Promise((r) => setTimeout(r, 300));
    assert.match(
      failure()!.message,
      /the source old .* lost \d+ of the \d+ keys of db 0 without delete notifications/,
    );
    assert.deepEqual(changedBetween(before, await snapshotDb(t, 0)), []);
    await assertSeedIntact(target, 2000);
    assert.ok((await checkAcknowledged(appReport, target.url)).ok);
    await ls.stop();
  });

  test('the source restarts empty: live sync fails instead of deleting the target keys', async () => {
    const { source, target, ls, app, failure } = await setUp();
    const t = await target.client();
    await new Promise((r) => setTimeout(r, 300));
    const restarted = await restartEmpty(source, NOTIFY_ON);
    servers.push(restarted);
    await waitFor('live sync to fail', () => failure() !== undefined);
    const appReport = await app.stop();
    const before = await snapshotDb(t, 0);
    await new Promise((r) => setTimeout(r, 500));
    assert.match(failure()!.message, /the source old .* restarted \(run_id \w+ is now \w+\)/);
    assert.match(failure()!.message, /the target keeps what it had/);
    assert.deepEqual(changedBetween(before, await snapshotDb(t, 0)), []);
    await assertSeedIntact(target, 2000);
    // The app kept writing to the restarted source: none of that may be taken for the migrated data.
    assert.ok(appReport.acknowledged > 0);
    await ls.stop();
  });

  test('the target restarts empty: live sync copies everything again', async () => {
    const { ls, app, failure } = await setUp();
    let target = servers.at(-1)!;
    target = await restartEmpty(target);
    servers.push(target);
    await waitFor(
      'the target to be filled again',
      async () => (await (await target.client()).dbsize()) > 1500,
    );
    const appReport = await app.stop();
    await ls.drain({ timeoutMs: 20_000 });
    assert.equal(failure(), undefined);
    assert.match(ls.status().lastRescanReason ?? '', /the target new .* restarted/);
    // Everything written is there: the seed, and every acknowledged app write (its checker allows
    // for 1.5 s PX keys expiring on the way, which a key-by-key comparison of the two cannot).
    await assertSeedIntact(target, 2000);
    const acked = await checkAcknowledged(appReport, target.url);
    assert.ok(acked.ok, JSON.stringify(acked.missing.slice(0, 5)));
    await ls.stop();
  });
});
