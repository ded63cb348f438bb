// MigrationService + MigrationStore against a real redis-server: transitions, approvals, expiry,
// abort, the audit trail, and races (many identical approvals at once make one transition).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { AuditEvent } from '../../src/runbook/events.js';
import type { Step, StepRef } from '../../src/runbook/model.js';
import { MigrationService, type ServiceOptions, type StepScheduler } from '../../src/runbook/service.js';
import { MigrationStore } from '../../src/runbook/store.js';
import { forgetSecrets, registerSecret } from '../../src/util/secrets.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { plannedStep, SETTINGS, testPlan } from '../unit/runbook/fixtures.js';

class RecordingScheduler implements StepScheduler {
  readonly refs: StepRef[] = [];
  async enqueue(ref: StepRef): Promise<void> {
    this.refs.push(ref);
  }
}

let server: RedisServer;
const clients: Redis[] = [];
let prefixN = 0;

async function makeService(options: Partial<ServiceOptions> & { prefix?: string } = {}) {
  const redis = await server.client();
  clients.push(redis);
  const store = new MigrationStore(redis, { prefix: options.prefix ?? 't' });
  const scheduler = new RecordingScheduler();
  const service = new MigrationService({ store, scheduler, settings: SETTINGS, ...options });
  return { service, scheduler, store, redis };
}

function types(events: AuditEvent[]): string[] {
  return events.map((e) => e.type);
}

before(async () => {
  server = await startRedis();
});
after(async () => {
  for (const c of clients) c.disconnect();
  await server.stop();
});

describe('migration service', () => {
  it('creates, starts, asks for approval, approves and enqueues exactly the next step', async () => {
    const { service, scheduler } = await makeService({ prefix: `p${prefixN++}` });
    const plan = testPlan([plannedStep(1, 'bulk_copy', true, { dbs: [0] }), plannedStep(2, 'verify', false)]);
    const m = await service.create({ source: 'src', target: 'dst', plan, requester: 'UREQ' });
    assert.equal(m.status, 'created');
    assert.match(m.id, /^m[0-9a-z]+$/);
    assert.doesNotMatch(m.id, /^\d+$/);

    const started = await service.start(m.id, 'UREQ');
    assert.ok(started.ok);
    assert.equal(started.migration.status, 'awaiting_approval');
    assert.equal(started.migration.steps[0]!.status, 'awaiting_approval');
    assert.equal(scheduler.refs.length, 0, 'a gated step is not queued before its approval');
    assert.ok((await service.start(m.id, 'UREQ')).ok, 'starting twice is harmless');

    const step = started.migration.steps[0]!;
    const res = await service.approve(m.id, step.id, 'UAPPROVER1', step.hash);
    assert.ok(res.ok, !res.ok ? res.reason : '');
    assert.equal(res.migration.steps[0]!.status, 'approved');
    assert.deepEqual(scheduler.refs, [{ migrationId: m.id, stepId: step.id, attempt: 1 }]);

    const events = await service.events(m.id);
    assert.deepEqual(types(events), [
      'migration_created',
      'migration_planned',
      'migration_started',
      'approval_requested',
      'step_approved',
    ]);
    const requested = events[3]!;
    assert.equal(requested.stepId, step.id);
    assert.equal(requested.data?.stepHash, step.hash);
    assert.match(requested.message, /needs approval from an approver/);
    assert.equal(events[4]!.actor, 'UAPPROVER1');
    for (const e of events) assert.ok(!Number.isNaN(Date.parse(e.at)) && e.id);
  });

  it('refuses the requester with a sentence for people, and audits the refusal', async () => {
    const { service } = await makeService({ prefix: `p${prefixN++}` });
    const plan = testPlan([plannedStep(1, 'bulk_copy', true)]);
    const m = await service.create({ source: 's', target: 't', plan, requester: 'UREQ' });
    await service.start(m.id, 'UREQ');
    const cur = (await service.get(m.id))!;
    const res = await service.approve(m.id, cur.steps[0]!.id, 'UREQ', cur.steps[0]!.hash);
    assert.equal(res.ok, false);
    assert.equal(!res.ok && res.reason, 'you requested this migration; someone else must approve its steps');
    const last = (await service.events(m.id)).at(-1)!;
    assert.equal(last.type, 'approval_refused');
    assert.equal(last.actor, 'UREQ');
  });

  it('a refusal is recorded once per person, step and reason, however often they click', async () => {
    const prefix = `p${prefixN++}`;
    const services = await Promise.all(Array.from({ length: 4 }, () => makeService({ prefix })));
    const { service } = services[0]!;
    const plan = testPlan([plannedStep(1, 'bulk_copy', true), plannedStep(2, 'promote', true)]);
    const m = await service.create({ source: 's', target: 't', plan, requester: 'UREQ' });
    await service.start(m.id, 'UREQ');
    const [first, second] = (await service.get(m.id))!.steps as [Step, Step];
    // 100 clicks by the requester, 25 at a time from each of 4 connections.
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        services[i % 4]!.service.approve(m.id, first.id, 'UREQ', first.hash),
      ),
    );
    assert.ok(
      results.every((r) => !r.ok && r.code === 'requester'),
      'each click is refused',
    );
    // Another person, another step, another reason: each recorded once more.
    for (let i = 0; i < 10; i++) await service.approve(m.id, first.id, 'UREQ', 'not-the-hash');
    for (let i = 0; i < 10; i++) await service.approve(m.id, second.id, 'UAPPROVER1', second.hash);
    for (let i = 0; i < 10; i++) await service.reject(m.id, first.id, 'UREQ', first.hash);
    const refusals = (await service.events(m.id)).filter((e) => e.type === 'approval_refused');
    assert.deepEqual(
      refusals.map((e) => [e.actor, e.stepId, e.data?.action, e.data?.code]),
      [
        ['UREQ', first.id, 'approve', 'requester'],
        ['UREQ', first.id, 'approve', 'stale_hash'],
        ['UAPPROVER1', second.id, 'approve', 'not_awaiting'],
        ['UREQ', first.id, 'reject', 'requester'],
      ],
    );
  });

  it('50 identical approvals at once (from 10 connections) make exactly one transition', async (t) => {
    const prefix = `p${prefixN++}`;
    const services = await Promise.all(Array.from({ length: 10 }, () => makeService({ prefix })));
    const { service } = services[0]!;
    const plan = testPlan([plannedStep(1, 'promote', true), plannedStep(2, 'verify', false)]);
    const m = await service.create({ source: 's', target: 't', plan, requester: 'UREQ' });
    const started = await service.start(m.id, 'UREQ');
    assert.ok(started.ok);
    const step = started.migration.steps[0]!;
    const t0 = performance.now();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        services[i % 10]!.service.approve(m.id, step.id, 'UAPPROVER1', step.hash),
      ),
    );
    t.diagnostic(`50 concurrent approvals settled in ${(performance.now() - t0).toFixed(0)} ms`);
    assert.equal(results.filter((r) => r.ok).length, 1);
    const refusals = results.filter((r) => !r.ok);
    assert.equal(refusals.length, 49);
    for (const r of refusals) assert.match(!r.ok ? r.reason : '', /already approved by UAPPROVER1/);
    const events = await service.events(m.id);
    assert.equal(types(events).filter((t) => t === 'step_approved').length, 1);
    const enqueued = services.flatMap((s) => s.scheduler.refs);
    assert.equal(enqueued.length, 1, 'the step was queued once');
    const final = (await service.get(m.id))!;
    assert.equal(final.steps[0]!.status, 'approved');
    assert.equal(final.steps[0]!.approvedBy?.length, 1);
  });

  it('a quorum of 2 with 10 different approvers racing records exactly two and approves once', async () => {
    const prefix = `p${prefixN++}`;
    const approvers = Array.from({ length: 10 }, (_, i) => `UAPP${i}`);
    const settings = { ...SETTINGS, approvers: { users: approvers, groups: [] }, quorum: { promote: 2 } };
    const services = await Promise.all(Array.from({ length: 5 }, () => makeService({ prefix, settings })));
    const { service } = services[0]!;
    const plan = testPlan([plannedStep(1, 'promote', true)]);
    const m = await service.create({ source: 's', target: 't', plan, requester: 'UREQ' });
    const step = (
      (await service.start(m.id, 'UREQ')) as { migration: { steps: { id: string; hash: string }[] } }
    ).migration.steps[0]!;
    const results = await Promise.all(
      approvers.map((u, i) => services[i % 5]!.service.approve(m.id, step.id, u, step.hash)),
    );
    assert.equal(results.filter((r) => r.ok).length, 2);
    const events = await service.events(m.id);
    assert.equal(types(events).filter((t) => t === 'approval_recorded').length, 1);
    assert.equal(types(events).filter((t) => t === 'step_approved').length, 1);
    const final = (await service.get(m.id))!;
    assert.equal(new Set(final.steps[0]!.approvedBy!.map((d) => d.userId)).size, 2);
  });

  it('resolves approver groups through the injected directory', async () => {
    const lookups: string[] = [];
    const directory = {
      async membersOf(group: string) {
        lookups.push(group);
        return group === 'SDBA' ? ['UDBA'] : [];
      },
    };
    const { service } = await makeService({ prefix: `p${prefixN++}`, directory });
    const plan = testPlan([plannedStep(1, 'promote', true)]);
    const m = await service.create({ source: 's', target: 't', plan, requester: 'UREQ' });
    const step = (await service.start(m.id, 'UREQ')).ok ? (await service.get(m.id))!.steps[0]! : undefined;
    const refused = await service.approve(m.id, step!.id, 'UOTHER', step!.hash);
    assert.equal(!refused.ok && refused.code, 'not_approver');
    const ok = await service.approve(m.id, step!.id, 'UDBA', step!.hash);
    assert.ok(ok.ok);
    assert.ok(lookups.includes('SDBA'));
  });

  it('a changed step needs a new approval: the old hash is refused', async () => {
    const { service } = await makeService({ prefix: `p${prefixN++}` });
    const plan = testPlan([plannedStep(1, 'bulk_copy', true, { dbs: [0] })]);
    const m = await service.create({ source: 's', target: 't', plan, requester: 'UREQ' });
    await service.start(m.id, 'UREQ');
    const before = (await service.get(m.id))!.steps[0]!;
    const amended = await service.amendStep(m.id, before.id, { dbs: [0, 1] }, 'system');
    assert.ok(amended.ok);
    const after = (await service.get(m.id))!.steps[0]!;
    assert.notEqual(after.hash, before.hash);
    assert.equal(after.status, 'awaiting_approval');
    const stale = await service.approve(m.id, before.id, 'UAPPROVER1', before.hash);
    assert.equal(!stale.ok && stale.code, 'stale_hash');
    assert.ok((await service.approve(m.id, before.id, 'UAPPROVER1', after.hash)).ok);
    const t = types(await service.events(m.id));
    assert.deepEqual(t.slice(-4), [
      'step_amended',
      'approval_requested',
      'approval_refused',
      'step_approved',
    ]);
  });

  it('expires approval requests after the configured time; they can be requested again', async () => {
    let now = Date.parse('2026-03-01T12:00:00.000Z');
    const settings = { ...SETTINGS, expiresAfterMs: 60_000 };
    const { service } = await makeService({ prefix: `p${prefixN++}`, settings, now: () => now });
    const plan = testPlan([plannedStep(1, 'promote', true)]);
    const m = await service.create({ source: 's', target: 't', plan, requester: 'UREQ' });
    await service.start(m.id, 'UREQ');
    const step = (await service.get(m.id))!.steps[0]!;
    assert.equal(step.approvalExpiresAt, '2026-03-01T12:01:00.000Z');
    now += 59_999;
    assert.equal(await service.expireDue(), 0);
    now += 1;
    assert.equal(await service.expireDue(), 1);
    assert.equal(await service.expireDue(), 0, 'expiring is done once');
    let cur = (await service.get(m.id))!;
    assert.equal(cur.steps[0]!.status, 'expired');
    assert.equal(cur.status, 'expired');
    const late = await service.approve(m.id, step.id, 'UAPPROVER1', step.hash);
    assert.equal(!late.ok && late.code, 'expired');
    assert.match(!late.ok ? late.reason : '', /ask for it again/);

    const again = await service.requestApproval(m.id, step.id, 'UREQ');
    assert.ok(again.ok);
    cur = (await service.get(m.id))!;
    assert.equal(cur.steps[0]!.status, 'awaiting_approval');
    assert.equal(cur.steps[0]!.approvalExpiresAt, new Date(now + 60_000).toISOString());
    assert.ok((await service.approve(m.id, step.id, 'UAPPROVER1', step.hash)).ok);
    const t = types(await service.events(m.id));
    assert.ok(t.includes('approval_expired'));
    assert.equal(t.filter((x) => x === 'approval_requested').length, 2);
  });

  it('an approval arriving after the deadline records the expiry itself (no sweeper needed)', async () => {
    let now = Date.parse('2026-03-01T12:00:00.000Z');
    const { service } = await makeService({
      prefix: `p${prefixN++}`,
      settings: { ...SETTINGS, expiresAfterMs: 1000 },
      now: () => now,
    });
    const m = await service.create({
      source: 's',
      target: 't',
      plan: testPlan([plannedStep(1, 'promote', true)]),
      requester: 'UREQ',
    });
    await service.start(m.id, 'UREQ');
    const step = (await service.get(m.id))!.steps[0]!;
    now += 5000;
    const res = await service.approve(m.id, step.id, 'UAPPROVER1', step.hash);
    assert.equal(!res.ok && res.code, 'expired');
    assert.equal((await service.get(m.id))!.steps[0]!.status, 'expired');
  });

  it('a rejection ends the migration', async () => {
    const { service } = await makeService({ prefix: `p${prefixN++}` });
    const m = await service.create({
      source: 's',
      target: 't',
      plan: testPlan([plannedStep(1, 'promote', true), plannedStep(2, 'verify', false)]),
      requester: 'UREQ',
    });
    await service.start(m.id, 'UREQ');
    const step = (await service.get(m.id))!.steps[0]!;
    const res = await service.reject(m.id, step.id, 'UAPPROVER1', step.hash, 'not during business hours');
    assert.ok(res.ok);
    assert.equal(res.migration.status, 'rejected');
    const events = await service.events(m.id);
    assert.deepEqual(types(events).slice(-2), ['step_rejected', 'migration_rejected']);
    assert.match(events.at(-2)!.message, /not during business hours/);
    assert.equal((await service.list({ activeOnly: true })).filter((x) => x.id === m.id).length, 0);
  });

  it('abort stops every step not yet run and says what state things are in', async () => {
    const { service, store } = await makeService({ prefix: `p${prefixN++}` });
    const m = await service.create({ source: 's', target: 't', plan: testPlan(), requester: 'UREQ' });
    await service.start(m.id, 'UREQ');
    const stranger = await service.abort(m.id, 'USTRANGER');
    assert.equal(!stranger.ok && stranger.code, 'not_involved');
    const res = await service.abort(m.id, 'UREQ', 'wrong target');
    assert.ok(res.ok);
    assert.equal(res.migration.status, 'aborted');
    assert.ok(res.migration.steps.every((s) => s.status === 'aborted'));
    assert.match(res.message, /No step had run, so source and target are as they were/);
    const last = (await service.events(m.id)).find((e) => e.type === 'migration_aborted')!;
    assert.equal(last.actor, 'UREQ');
    assert.match(last.message, /wrong target/);
    // The flag running workers poll.
    assert.equal(await store.heartbeat(m.id, 'nope', 0, 1000), 'aborted');
    const twice = await service.abort(m.id, 'UREQ');
    assert.equal(!twice.ok && twice.code, 'aborted');
  });

  it('creating from a blocked plan is refused with the blockers', async () => {
    const { service } = await makeService({ prefix: `p${prefixN++}` });
    const plan = {
      ...testPlan(),
      strategy: null,
      blockers: [{ code: 'target-small', message: 'target too small' }],
    };
    await assert.rejects(
      service.create({ source: 's', target: 't', plan, requester: 'U1' }),
      /blocked plan: target too small/,
    );
    await assert.rejects(
      service.create({ source: 's', target: 't', plan: testPlan(), requester: 'U1', buddy: 'U1' }),
      /buddy must be someone other than the requester/,
    );
  });
});

describe('audit trail', () => {
  it('keeps secrets out of events and documents, and exports JSON lines', async () => {
    const { service, redis, store } = await makeService({ prefix: `p${prefixN++}` });
    registerSecret('hunter2-secret');
    try {
      const m = await service.create({
        source: 's',
        target: 't',
        plan: testPlan(),
        requester: 'UREQ',
        meta: { note: 'password is hunter2-secret' },
      });
      await store.append(m.id, [
        {
          migrationId: m.id,
          type: 'note',
          at: new Date().toISOString(),
          actor: 'system',
          message: 'x hunter2-secret',
        },
      ]);
      const raw = JSON.stringify(await redis.xrange(store.key(m.id, 'events'), '-', '+'));
      const doc = await redis.hget(store.key(m.id), 'doc');
      const global = JSON.stringify(await redis.xrange(store.globalEventsKey, '-', '+'));
      for (const text of [raw, doc ?? '', global]) assert.ok(!text.includes('hunter2-secret'));
      const lines = (await service.audit.exportJsonLines(m.id)).trim().split('\n');
      assert.equal(lines.length, 3);
      const parsed = lines.map((l) => JSON.parse(l) as AuditEvent);
      assert.deepEqual(
        parsed.map((e) => e.type),
        ['migration_created', 'migration_planned', 'note'],
      );
      assert.equal(parsed[2]!.message, 'x ***');
    } finally {
      forgetSecrets();
    }
  });

  it('subscribeEvents: a consumer group spreads events over processes, each handled once; groups are independent', async () => {
    const prefix = `p${prefixN++}`;
    const a = await makeService({ prefix });
    const b = await makeService({ prefix });
    const seenA: AuditEvent[] = [];
    const seenB: AuditEvent[] = [];
    const seenOther: AuditEvent[] = [];
    const subA = await a.service.subscribeEvents((e) => void seenA.push(e), {
      group: 'slack',
      consumer: 'a',
      blockMs: 100,
    });
    const subB = await b.service.subscribeEvents((e) => void seenB.push(e), {
      group: 'slack',
      consumer: 'b',
      blockMs: 100,
    });
    const subO = await a.service.subscribeEvents((e) => void seenOther.push(e), {
      group: 'other',
      blockMs: 100,
    });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const m = await a.service.create({ source: 's', target: 't', plan: testPlan(), requester: 'UREQ' });
        ids.push(m.id);
        await a.service.start(m.id, 'UREQ');
      }
      // 5 x (created, planned, started) = 15 events.
      const deadline = Date.now() + 5000;
      while (seenA.length + seenB.length < 15 || seenOther.length < 15) {
        if (Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const both = [...seenA, ...seenB];
      assert.equal(both.length, 15);
      assert.equal(
        new Set(both.map((e) => `${e.migrationId}/${e.id}`)).size,
        15,
        'no event twice in a group',
      );
      assert.equal(seenOther.length, 15);
      assert.ok(seenOther.every((e) => ids.includes(e.migrationId)));
      // Events carry the per-migration stream id, so adapters can link back to the audit trail.
      const first = (await a.service.events(ids[0]!))[0]!;
      assert.ok(seenOther.some((e) => e.id === first.id && e.type === 'migration_created'));
    } finally {
      await subA.close();
      await subB.close();
      await subO.close();
    }
  });

  it('subscribeEvents delivers again an event whose handler failed', async () => {
    const prefix = `p${prefixN++}`;
    const { service } = await makeService({ prefix });
    let failures = 0;
    const handled: string[] = [];
    const sub = await service.subscribeEvents(
      (e) => {
        if (e.type === 'migration_planned' && failures === 0) {
          failures++;
          throw new Error('slack is down');
        }
        handled.push(e.type);
      },
      { group: 'g', consumer: 'c1', reclaimIdleMs: 200, blockMs: 100 },
    );
    try {
      await service.create({ source: 's', target: 't', plan: testPlan(), requester: 'UREQ' });
      const deadline = Date.now() + 8000;
      while (!handled.includes('migration_planned') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(failures, 1);
      assert.deepEqual(handled.sort(), ['migration_created', 'migration_planned']);
    } finally {
      await sub.close();
    }
  });
});
