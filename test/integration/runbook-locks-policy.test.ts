// Server locks and the fixed approval policy, against a real control redis-server: one active
// migration per server (as source or target, by resolved address, per database), released when it
// ends, taken again when it reopens, stale locks cleared only by an approver; and a policy that no
// process with another config can change once the migration exists.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import type { ApprovalSettings } from '../../src/runbook/approval-policy.js';
import { LockHeldError, lockUnits } from '../../src/runbook/locks.js';
import { MigrationService } from '../../src/runbook/service.js';
import { MigrationStore } from '../../src/runbook/store.js';
import { locksFor } from '../../src/usecases/plan-migration.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { plannedStep, SETTINGS, testPlan } from '../unit/runbook/fixtures.js';

let control: RedisServer;
const clients: Redis[] = [];
let n = 0;

async function makeService(settings: ApprovalSettings = SETTINGS, prefix = `l${n++}`) {
  const redis = await control.client();
  clients.push(redis);
  const store = new MigrationStore(redis, { prefix });
  return { service: new MigrationService({ store, settings }), store, redis, prefix };
}

const A = { address: '10.0.0.1', port: 6379 };
const B = { address: '10.0.0.2', port: 6379 };
const C = { address: '10.0.0.3', port: 6379 };
const all = (from: typeof A, to: typeof A) => [
  ...lockUnits(from, 'dump-restore', 'all'),
  ...lockUnits(to, 'dump-restore', 'all'),
];
const dbs = (from: typeof A, to: typeof A, list: number[]) => [
  ...lockUnits(from, 'dump-restore', list),
  ...lockUnits(to, 'dump-restore', list),
];

function create(service: MigrationService, locks: string[], requester = 'UREQ') {
  return service.create({
    source: 'src',
    target: 'dst',
    plan: testPlan(),
    requester,
    buddy: 'UAPPROVER1',
    locks,
    meta: { slackChannel: 'C0LOCK', slackTs: '111.222' },
  });
}

async function refusedBy(work: Promise<unknown>): Promise<LockHeldError> {
  try {
    await work;
  } catch (err) {
    assert.ok(err instanceof LockHeldError, `a LockHeldError, got ${String(err)}`);
    return err;
  }
  assert.fail('creation was not refused');
}

before(async () => {
  control = await startRedis();
});
after(async () => {
  for (const c of clients) c.disconnect();
  await control.stop();
});

describe('server locks', () => {
  it('one active migration per server, as source or target; released when it ends', async () => {
    const { service } = await makeService();
    const first = await create(service, all(A, B));
    assert.deepEqual(first.locks, ['10.0.0.1:6379/*', '10.0.0.2:6379/*']);

    const rows: [string, string[]][] = [
      ['the same pair', all(A, B)],
      ['another source into the same target', all(C, B)],
      ['the reverse migration', all(B, A)],
      ['the target as a source elsewhere', all(B, C)],
      ['one database of a locked server', dbs(C, B, [3])],
    ];
    for (const [name, locks] of rows) {
      const err = await refusedBy(create(service, locks));
      assert.equal(err.holder.migrationId, first.id, name);
      assert.equal(err.stale, false);
      assert.match(err.message, new RegExp(`in use by migration ${first.id} \\(src -> dst, created`), name);
      assert.equal(err.holder.migration?.meta.slackChannel, 'C0LOCK', 'the thread of the holder is known');
    }
    // Read-only check (the use case asks before posting anything) agrees with the atomic one.
    const holders = await service.lockHolders(all(C, B));
    assert.deepEqual(
      holders.map((h) => h.migrationId),
      [first.id],
    );
    assert.equal((await service.list()).length, 1, 'nothing else was created');

    const aborted = await service.abort(first.id, 'UREQ', 'done testing');
    assert.ok(aborted.ok);
    assert.deepEqual(await service.lockHolders(all(A, B)), [], 'the locks went with the migration');
    const second = await create(service, all(B, A));
    assert.equal(second.status, 'created', 'the reverse migration may run now');
  });

  it('different databases of one server may migrate at once; the same one may not', async () => {
    const { service } = await makeService();
    const db1 = await create(service, dbs(A, B, [1]));
    const db2 = await create(service, dbs(A, B, [2]));
    assert.notEqual(db1.id, db2.id);
    const err = await refusedBy(create(service, dbs(C, B, [2, 5])));
    assert.equal(err.holder.migrationId, db2.id);
    assert.match(err.message, /10\.0\.0\.2:6379 db 2 is in use/);
    const whole = await refusedBy(create(service, all(C, A)));
    assert.ok([db1.id, db2.id].includes(whole.holder.migrationId));
  });

  it('two names for one server resolve to one lock', async () => {
    const plan = testPlan();
    const byName = await locksFor({
      source: parseEndpointUrl('redis://localhost:7001/0', 'old'),
      target: parseEndpointUrl('redis://127.0.0.1:7002/0', 'new'),
      plan,
    });
    const byAddress = await locksFor({
      source: parseEndpointUrl('redis://127.0.0.1:7001/0', 'old-by-ip'),
      target: parseEndpointUrl('redis://127.0.0.1:7002/0', 'new'),
      plan,
    });
    assert.deepEqual(byName, byAddress);
    assert.deepEqual(byName, ['127.0.0.1:7001/*', '127.0.0.1:7002/*']);
  });

  it('a failed migration gives its locks back; a retry takes them again only if they are free', async () => {
    const { service } = await makeService();
    const plan = testPlan([plannedStep(1, 'verify', false)]);
    const m = await service.create({
      source: 'src',
      target: 'dst',
      plan,
      requester: 'UREQ',
      buddy: 'UAPPROVER1',
      locks: all(A, B),
    });
    await service.start(m.id, 'UREQ');
    const stepId = m.steps[0]!.id;
    const failed = await service.mutate(m.id, (cur) => {
      const step = cur.steps[0]!;
      service.move(step, 'claim');
      service.move(step, 'fail');
      step.error = 'boom';
      return { ok: true, migration: cur, events: [], options: {}, message: 'failed', value: undefined };
    });
    assert.ok(failed.ok);
    assert.equal(failed.migration.status, 'failed');
    assert.deepEqual(await service.lockHolders(all(A, B)), []);

    const other = await create(service, all(C, B));
    const retry = await service.retryStep(m.id, stepId, 'UREQ');
    assert.equal(retry.ok, false);
    assert.equal(!retry.ok && retry.code, 'locked');
    assert.match(!retry.ok ? retry.reason : '', new RegExp(`in use by migration ${other.id}`));
    assert.equal((await service.get(m.id))?.status, 'failed', 'nothing changed');

    await service.abort(other.id, 'UREQ');
    const again = await service.retryStep(m.id, stepId, 'UREQ');
    assert.ok(again.ok, !again.ok ? again.reason : '');
    assert.deepEqual(
      (await service.lockHolders(all(A, B))).map((h) => h.migrationId),
      [m.id],
    );
  });

  it('a stale lock (its migration gone) is refused with how to clear it; only an approver clears it', async () => {
    const { service, redis, prefix } = await makeService();
    const gone = await create(service, all(A, B));
    await redis.del(`${prefix}:mig:${gone.id}`); // the document is lost; its lock stays behind
    const err = await refusedBy(create(service, all(C, B)));
    assert.equal(err.stale, true);
    assert.match(
      err.message,
      /10\.0\.0\.2:6379 \(every database\) is locked by migration .* which no longer exists/,
    );
    assert.match(
      err.message,
      /migration-buddy unlock 10\.0\.0\.2:6379 --as <user>.*\/migrate unlock <endpoint>/,
    );

    const stranger = await service.unlock('10.0.0.2:6379', 'USTRANGER');
    assert.equal(!stranger.ok && stranger.code, 'not_approver');
    const cleared = await service.unlock('10.0.0.2:6379', 'UAPPROVER2');
    assert.ok(cleared.ok);
    assert.deepEqual(cleared.cleared, ['10.0.0.2:6379/*']);
    const events = await service.events(gone.id);
    assert.equal(events.at(-1)?.type, 'lock_cleared');
    assert.equal(events.at(-1)?.actor, 'UAPPROVER2');

    const now = await create(service, all(C, B));
    assert.equal(now.status, 'created');
    const active = await service.unlock('10.0.0.2:6379', 'UAPPROVER2');
    assert.equal(!active.ok && active.code, 'locked', 'a lock of an active migration is never cleared');
    assert.match(!active.ok ? active.reason : '', new RegExp(`held by active migration ${now.id}`));
  });
});

describe('the approval policy is fixed into the migration', () => {
  it('a process with another config can neither lower the quorum nor change the approvers', async () => {
    const strict: ApprovalSettings = { ...SETTINGS, quorum: { bulk_copy: 2 }, expiresAfterMs: 600_000 };
    const lax: ApprovalSettings = {
      approvers: { users: ['ULAX'], groups: [] },
      quorum: {},
      expiresAfterMs: 1000,
    };
    const { service: creator, prefix } = await makeService(strict);
    const { service: other } = await makeService(lax, prefix);
    const m = await creator.create({
      source: 'src',
      target: 'dst',
      plan: testPlan([plannedStep(1, 'bulk_copy', true)]),
      requester: 'UREQ',
    });
    assert.deepEqual(m.policy, strict);
    // The other process opens the gate and takes the decisions.
    const started = await other.start(m.id, 'UREQ');
    assert.ok(started.ok);
    const step = started.migration.steps[0]!;
    assert.equal(step.quorum, 2);
    const opened = Date.parse(step.approvalRequestedAt!);
    assert.equal(Date.parse(step.approvalExpiresAt!) - opened, 600_000, 'expiry from the migration');

    const lax1 = await other.approve(m.id, step.id, 'ULAX', step.hash);
    assert.equal(!lax1.ok && lax1.code, 'not_approver', 'approvers of the other config do not count');
    const first = await other.approve(m.id, step.id, 'UAPPROVER1', step.hash);
    assert.ok(first.ok);
    assert.equal(first.migration.steps[0]!.status, 'awaiting_approval', 'one approval of two');
    const second = await other.approve(m.id, step.id, 'UAPPROVER2', step.hash);
    assert.ok(second.ok);
    assert.equal(second.migration.steps[0]!.status, 'approved');
    assert.deepEqual(
      second.migration.steps[0]!.approvedBy?.map((d) => d.userId),
      ['UAPPROVER1', 'UAPPROVER2'],
    );
  });

  it('creation refuses a buddy who is not an approver, with the reason', async () => {
    const { service } = await makeService();
    await assert.rejects(
      service.create({ source: 's', target: 't', plan: testPlan(), requester: 'UREQ', buddy: 'U123' }),
      /the buddy U123 is not one of the configured approvers/,
    );
    assert.equal((await service.list()).length, 0);
  });
});
