// The MIGRATE strategy's copy steps against real servers: the source pushes keys with
// MIGRATE ... COPY REPLACE AUTH2 to a target that has an ACL user; several databases, binary key
// names, TTLs; a run stopped part way resumes from its checkpoint; the final pass brings over
// changes and deletions; failures are clear and never show the target's password.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verify } from '../../src/engine/verify/index.js';
import { withDefaults } from '../../src/planner/defaults.js';
import { planMigration } from '../../src/planner/plan.js';
import { probeEndpoint } from '../../src/probe/index.js';
import { type Endpoint, parseEndpointUrl } from '../../src/redis/endpoint.js';
import { StepAbortedError, UnrecoverableStepError } from '../../src/runbook/errors.js';
import { ExecutorRegistry } from '../../src/runbook/step-executor.js';
import type { MigrateCheckpoint } from '../../src/strategies/migrate/index.js';
import { type MigrateExecutorOptions, migrateBulkCopyExecutor } from '../../src/strategies/migrate/index.js';
import { freePort, type RedisServer, startRedis } from '../harness/redis-server.js';
import { RunbookHarness } from './replication-support.js';

const TARGET_PW = 'migrate-target-pw-4242';
const KEYS_DB0 = 2500;
let source: RedisServer;
let target: RedisServer;

const binaryKey = (i: number) => Buffer.from([0xff, 0x00, 0xfe, i & 0xff, (i >> 8) & 0xff, 0x80]);

before(async () => {
  [source, target] = await Promise.all([
    startRedis(),
    startRedis({
      password: 'target-admin-pw-1',
      configLines: [`user migrator on >${TARGET_PW} ~* &* +@all`],
    }),
  ]);
  const db0 = await source.client(0);
  const p0 = db0.pipeline();
  for (let i = 0; i < KEYS_DB0; i++) p0.set(`k:${i}`, `value-${i}`);
  for (let i = 0; i < 50; i++) p0.set(binaryKey(i), Buffer.from([i, 0, 255]), 'PX', 900_000);
  p0.hset('hash', { a: '1', b: '2' });
  p0.zadd('zset', 1, 'one', 2, 'two');
  p0.rpush('list', 'a', 'b', 'c');
  p0.xadd('stream', '*', 'f', 'v');
  await p0.exec();
  const db1 = await source.client(1);
  await db1.set('in-db1', 'x', 'EX', 5000);
  await db1.sadd('set-db1', 'a', 'b');
  const db3 = await source.client(3);
  await db3.set(binaryKey(999), 'db3');
  for (const c of [db0, db1, db3]) c.disconnect();
});
after(async () => {
  await Promise.all([source.stop(), target.stop()]);
});

function endpoints(password = TARGET_PW): { source: Endpoint; target: Endpoint } {
  return {
    source: parseEndpointUrl(source.url, 'old'),
    target: parseEndpointUrl(target.urlFor('migrator', password), 'new'),
  };
}

/** `liveSync: false` plans as for a source whose notifications cannot be turned on (no CONFIG SET). */
async function harness(options: MigrateExecutorOptions = {}, password?: string, { liveSync = true } = {}) {
  const eps = endpoints();
  const [sp, tp] = await Promise.all([probeEndpoint(eps.source), probeEndpoint(eps.target)]);
  if (!liveSync)
    sp.commands['CONFIG SET'] = { available: false, reason: 'unknown command (renamed or disabled)' };
  const plan = planMigration(sp, tp, withDefaults({ strategy: 'migrate', onNonEmptyTarget: 'replace' }));
  assert.equal(plan.strategy, 'migrate', JSON.stringify(plan.blockers));
  // MIGRATE's own bulk copy, without the live phase (these tests run single steps in-process).
  const registry = new ExecutorRegistry().register('bulk_copy', migrateBulkCopyExecutor(options));
  return new RunbookHarness(plan, password ? endpoints(password) : eps, registry);
}

async function targetAdmin(db = 0) {
  return target.client(db, { password: 'target-admin-pw-1' });
}

describe('MIGRATE strategy', () => {
  it('plans one MIGRATE pass whose changes the live phase follows, verified before the pause', async () => {
    const h = await harness();
    assert.deepEqual(
      h.migration.steps.map((s) => s.kind),
      [
        'preflight',
        'bulk_copy',
        'live_sync',
        'verify',
        'write_pause',
        'repoint',
        'resume_writes',
        'post_verify',
      ],
    );
    const bulk = h.step('bulk_copy');
    assert.ok(bulk.params.method === 'migrate' && bulk.params.copy === true && bulk.params.captureChanges);
    assert.equal(h.step('verify').params.requireBacklogEmpty, true);
  });

  it('without notifications: a final MIGRATE pass of every key under the pause, then the verification', async () => {
    const h = await harness({}, undefined, { liveSync: false });
    assert.deepEqual(
      h.migration.steps.map((s) => s.kind),
      [
        'preflight',
        'bulk_copy',
        'write_pause',
        'bulk_copy',
        'verify',
        'repoint',
        'resume_writes',
        'post_verify',
      ],
    );
    const copies = h.migration.steps.filter((s) => s.kind === 'bulk_copy');
    assert.ok(copies.every((s) => s.params.method === 'migrate' && s.params.copy === true));
    assert.deepEqual(
      [copies[1]!.params.pass, copies[1]!.params.scope, copies[1]!.params.deleteRemoved],
      ['final', 'all-keys', true],
    );
    assert.equal(h.step('verify').params.countTolerancePercent, 0);
  });

  it('copies several dbs, binary keys and TTLs with AUTH2, resumes after a stop, and keeps the source', async () => {
    const h = await harness({}, undefined, { liveSync: false });
    const logs: string[] = [];
    let stopped = false;
    // Stop after the first checkpoint that has keys: the next run must resume there.
    const first = await h.run('bulk_copy', {
      log: (l) => logs.push(l),
      onCheckpoint: (cp) => {
        if (!stopped && (cp as MigrateCheckpoint).counters.keysCopied > 0) {
          stopped = true;
          return 'shutdown';
        }
        return undefined;
      },
    });
    assert.ok(first.error instanceof StepAbortedError, String(first.error));
    const saved = h.checkpoints.get(h.step('bulk_copy').id) as MigrateCheckpoint;
    assert.equal(saved.method, 'migrate');
    assert.ok(
      saved.counters.keysCopied > 0 && saved.counters.keysCopied < KEYS_DB0,
      `${saved.counters.keysCopied}`,
    );
    assert.notEqual(saved.dbs[0]!.cursor, '0');

    const second = await h.run('bulk_copy', { log: (l) => logs.push(l) });
    assert.ifError(second.error);
    const result = second.outcome!.result!;
    assert.equal(result.resumed, true);
    assert.deepEqual(result.dbs, [0, 1, 3]);
    const total = KEYS_DB0 + 50 + 4 + 2 + 1;
    assert.ok((result.keysCopied as number) >= total, `copied ${result.keysCopied}`);

    const t0 = await targetAdmin(0);
    assert.equal(await t0.dbsize(), KEYS_DB0 + 54);
    assert.deepEqual(await t0.getBuffer(binaryKey(7)), Buffer.from([7, 0, 255]));
    const pttl = await t0.pttl(binaryKey(7));
    assert.ok(pttl > 800_000 && pttl <= 900_000, `TTL carried: ${pttl}`);
    assert.equal(await t0.xlen('stream'), 1);
    const t1 = await targetAdmin(1);
    assert.ok((await t1.ttl('in-db1')) > 4000);
    const t3 = await targetAdmin(3);
    assert.equal(await t3.get(binaryKey(999)), 'db3');
    // COPY: the source keeps everything.
    const s0 = await source.client(0);
    assert.equal(await s0.dbsize(), KEYS_DB0 + 54);
    s0.disconnect();
    // The same verify as the copy engine finds nothing different.
    const report = await verify(endpoints().source, endpoints().target, { dbs: 'all', recheckDelayMs: 20 });
    assert.equal(report.identical, true, JSON.stringify(report.differences));
    // The MIGRATE command carries the password: it appears in no log line.
    assert.ok(!logs.join('\n').includes(TARGET_PW));

    // The final pass (under the write pause in a real cutover) brings changes and deletions over.
    const s = await source.client(0);
    await s.del('k:1');
    await s.set('k:2', 'changed');
    await s.set('brand-new', '1');
    s.disconnect();
    const final = await h.run(h.migration.steps.filter((x) => x.kind === 'bulk_copy')[1]!.id);
    assert.ifError(final.error);
    assert.equal(final.outcome!.result!.pass, 'final');
    assert.equal(await t0.exists('k:1'), 0);
    assert.equal(await t0.get('k:2'), 'changed');
    assert.equal(await t0.get('brand-new'), '1');
  });

  it('runs the final pass with DUMP/RESTORE while CLIENT PAUSE WRITE holds MIGRATE back', async () => {
    const h = await harness({}, undefined, { liveSync: false });
    assert.ifError((await h.run('bulk_copy')).error);
    const s = await source.client(0);
    await s.set('k:3', 'changed-before-pause');
    await s.del('k:4');
    const admin = await source.client(0);
    await admin.call('CLIENT', 'PAUSE', '20000', 'WRITE');
    try {
      h.step('write_pause').status = 'succeeded';
      const finalId = h.migration.steps.filter((x) => x.kind === 'bulk_copy')[1]!.id;
      const started = Date.now();
      const final = await h.run(finalId);
      assert.ifError(final.error);
      assert.ok(Date.now() - started < 10_000, 'not held back by the pause');
      assert.equal(final.outcome!.result!.method, 'dump-restore');
      assert.match(final.outcome!.summary, /CLIENT PAUSE WRITE holds MIGRATE back/);
      const t0 = await targetAdmin(0);
      assert.equal(await t0.get('k:3'), 'changed-before-pause');
      assert.equal(await t0.exists('k:4'), 0);
    } finally {
      await admin.call('CLIENT', 'UNPAUSE');
      admin.disconnect();
      s.disconnect();
    }
  });

  it('retries an IOERR batch a bounded number of times, then fails with the address', async () => {
    const closed = await freePort();
    const h = await harness({ targetAddress: () => ({ host: '127.0.0.1', port: closed }), maxIoRetries: 2 });
    const r = await h.run('bulk_copy');
    assert.ok(r.error instanceof UnrecoverableStepError, String(r.error));
    assert.match(r.error.message, new RegExp(`MIGRATE to 127\\.0\\.0\\.1:${closed} failed 2 times \\(IOERR`));
    assert.match(r.error.message, /reachable from the source/);
  });

  it('a wrong target password fails clearly without showing it', async () => {
    const wrong = 'wrong-target-pw-0000';
    const h = await harness({}, wrong);
    const r = await h.run('bulk_copy');
    assert.ok(r.error, 'failed');
    assert.ok(!r.error.message.includes(wrong), r.error.message);
    assert.match(r.error.message, /WRONGPASS|authentication failed|invalid username-password/i);
  });
});
