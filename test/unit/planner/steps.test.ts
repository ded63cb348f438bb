import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planMigration } from '../../../src/planner/plan.js';
import type { Plan, PlanOptions, StepKind } from '../../../src/planner/types.js';
import type { ProbeResult } from '../../../src/probe/types.js';
import { MANAGED_BLOCKS, options, type ProbeOverrides, source, target } from './fixtures.js';

function plan(s: ProbeOverrides, t: ProbeOverrides, o: Partial<PlanOptions> = {}): Plan {
  return planMigration(source(s), target(t), options(o));
}

const gated = (p: Plan) => p.steps.filter((s) => s.needsApproval).map((s) => s.kind);
const irreversible = (p: Plan) => p.steps.filter((s) => s.irreversible).map((s) => s.kind);

describe('steps and approvals per strategy', () => {
  const table: { name: string; plan: () => Plan; approvals: StepKind[]; irreversible: StepKind[] }[] = [
    {
      name: 'replication: start, make writable and promote are approved',
      plan: () => plan({}, {}),
      approvals: ['start_replication', 'make_writable', 'promote'],
      irreversible: ['start_replication', 'promote'],
    },
    {
      name: 'dump-restore with live sync: bulk copy and write pause are approved',
      plan: () => plan({ notifyKeyspaceEvents: 'KEA' }, { missing: MANAGED_BLOCKS }),
      approvals: ['bulk_copy', 'write_pause'],
      irreversible: ['write_pause'],
    },
    {
      name: 'dump-restore pausing first: both gates, pause before the copy',
      plan: () => plan({ missing: MANAGED_BLOCKS }, { missing: MANAGED_BLOCKS }),
      approvals: ['write_pause', 'bulk_copy'],
      irreversible: ['write_pause'],
    },
    {
      name: 'dump-restore with --flush-target: the bulk copy is irreversible',
      plan: () => plan({}, { missing: MANAGED_BLOCKS, dbs: { 0: 1 } }, { onNonEmptyTarget: 'flush' }),
      approvals: ['bulk_copy', 'write_pause'],
      irreversible: ['bulk_copy', 'write_pause'],
    },
    {
      name: 'migrate: bulk copy and write pause are approved; the final pass runs inside the pause',
      plan: () => plan({}, {}, { strategy: 'migrate' }),
      approvals: ['bulk_copy', 'write_pause'],
      irreversible: ['write_pause'],
    },
  ];
  for (const row of table) {
    test(row.name, () => {
      const p = row.plan();
      assert.deepEqual(gated(p), row.approvals);
      assert.deepEqual(irreversible(p), row.irreversible);
      // Every irreversible step is gated.
      for (const s of p.steps) if (s.irreversible) assert.equal(s.needsApproval, true, s.id);
    });
  }

  test('ids are "<n>-<kind>", unique, in order', () => {
    for (const p of [
      plan({}, {}),
      plan({}, { missing: MANAGED_BLOCKS }),
      plan({}, {}, { strategy: 'migrate' }),
    ]) {
      const ids = p.steps.map((s) => s.id);
      assert.equal(new Set(ids).size, ids.length);
      p.steps.forEach((s, i) => {
        assert.match(s.id, new RegExp(`^${i + 1}-[a-z_]+$`));
      });
      assert.equal(ids[0], '1-preflight');
      assert.equal(p.steps.at(-1)!.kind, 'post_verify');
    }
  });

  test('every step is bound to the two servers and the strategy', () => {
    const p = plan(
      { missing: { PSYNC: 'unknown command (renamed or disabled)' } },
      { missing: MANAGED_BLOCKS },
    );
    for (const s of p.steps) {
      assert.equal(s.params.source, 'redis://old.example:6379', s.id);
      assert.equal(s.params.target, 'redis://new.example:6379', s.id);
      assert.equal(s.params.strategy, 'dump-restore', s.id);
    }
  });

  test('the bulk copy carries what its approval covers: dbs, match, copy mode, target policy, thresholds', () => {
    const p = plan(
      { dbs: { 0: 5, 3: 7 } },
      { missing: MANAGED_BLOCKS, dbs: { 3: 1 } },
      { dbs: [0, 3], match: 'user:*', onNonEmptyTarget: 'replace', bigKeyThresholdBytes: 1_000_000 },
    );
    const bulk = p.steps.find((s) => s.kind === 'bulk_copy')!;
    assert.deepEqual(bulk.params.dbs, [0, 3]);
    assert.equal(bulk.params.match, 'user:*');
    assert.equal(bulk.params.copyMode, 'dump');
    assert.equal(bulk.params.onNonEmptyTarget, 'replace');
    assert.equal(bulk.params.bigKeyThresholdBytes, 1_000_000);
    assert.equal(bulk.params.replace, true);
    // A different option gives different parameters, so an old approval cannot be reused.
    const other = plan(
      { dbs: { 0: 5, 3: 7 } },
      { missing: MANAGED_BLOCKS, dbs: { 3: 1 } },
      { dbs: [0, 3], match: 'user:*', onNonEmptyTarget: 'flush', bigKeyThresholdBytes: 1_000_000 },
    );
    assert.notDeepEqual(other.steps.find((s) => s.kind === 'bulk_copy')!.params, bulk.params);
    const verify = p.steps.find((s) => s.kind === 'verify')!;
    assert.deepEqual(verify.params.dbs, [0, 3]);
    assert.equal(typeof verify.params.countTolerancePercent, 'number');
  });

  test('the write pause carries its timeout (renewed until resume)', () => {
    const p = plan(
      { notifyKeyspaceEvents: 'KEA' },
      { missing: MANAGED_BLOCKS },
      { writePauseTimeoutMs: 5000 },
    );
    const pause = p.steps.find((s) => s.kind === 'write_pause')!;
    assert.deepEqual(
      { method: pause.params.method, timeoutMs: pause.params.timeoutMs, drain: pause.params.drainChanges },
      { method: 'client-pause', timeoutMs: 5000, drain: true },
    );
  });

  test('replication steps cover every db; the drain check ignores our own clients', () => {
    const p = plan({ dbs: { 0: 5, 2: 1 } }, {});
    const verify = p.steps.find((s) => s.kind === 'verify')!;
    assert.deepEqual(verify.params.dbs, [0, 2]);
    const drain = p.steps.find((s) => s.kind === 'drain_check')!;
    assert.equal(drain.params.method, 'client-list');
    assert.equal(drain.params.ignoreClientNamePrefix, 'migration-buddy:');
    const none = plan({ missing: { 'CLIENT LIST': 'ACL: no permission' } }, {});
    assert.equal(none.steps.find((s) => s.kind === 'drain_check')!.params.method, 'person-confirms');
    assert.ok(none.warnings.some((w) => w.code === 'drain-check-manual'));
  });
});

describe('planMigration is pure', () => {
  function deepFreeze<T>(value: T): T {
    if (value && typeof value === 'object') {
      for (const v of Object.values(value)) deepFreeze(v);
      Object.freeze(value);
    }
    return value;
  }

  test('same inputs, same plan; inputs are not modified', () => {
    const s = deepFreeze(source({ dbs: { 0: 10, 1: 4 }, notifyKeyspaceEvents: 'KEA' }));
    const t = deepFreeze(target({ missing: MANAGED_BLOCKS, dbs: { 0: 2 } }));
    const o = deepFreeze(options({ onNonEmptyTarget: 'replace', match: 'a*' }));
    const before = JSON.stringify([s, t, o]);
    const a = planMigration(s as ProbeResult, t as ProbeResult, o);
    const b = planMigration(s as ProbeResult, t as ProbeResult, o);
    assert.deepEqual(a, b);
    assert.equal(JSON.stringify([s, t, o]), before);
    // JSON-safe: survives a round trip unchanged (it is stored with the migration).
    assert.deepEqual(JSON.parse(JSON.stringify(a)), a);
  });

  test('rejects a non-positive keys-per-second estimate', () => {
    assert.throws(
      () => planMigration(source(), target(), options({ estimatedKeysPerSecond: 0 })),
      RangeError,
    );
  });
});

describe('a database mapping from the URLs (db 3 -> db 5)', () => {
  const remapped = () =>
    plan(
      { notifyKeyspaceEvents: 'KEA', dbs: { 0: 10, 3: 100 }, missing: { PSYNC: 'unknown command' } },
      { missing: MANAGED_BLOCKS, dbs: { 3: 7 } },
      { dbs: [3], dbsFromUrl: true, dbRemap: { from: 3, to: 5 } },
    );

  test('psync carries the mapping to its full sync and stream (the follower maps the RDB and SELECTs)', () => {
    const p = plan(
      { dbs: { 0: 10, 3: 100 } },
      { missing: MANAGED_BLOCKS, dbs: { 3: 7 } },
      { dbs: [3], dbsFromUrl: true, dbRemap: { from: 3, to: 5 } },
    );
    assert.equal(p.strategy, 'psync', JSON.stringify(p.blockers));
    for (const kind of ['bulk_copy', 'live_sync', 'verify'] as const) {
      const s = p.steps.find((x) => x.kind === kind)!;
      assert.deepEqual(s.params.dbs, [3], kind);
      assert.deepEqual(s.params.dbRemap, { from: 3, to: 5 }, kind);
    }
    assert.match(
      p.steps.find((s) => s.kind === 'bulk_copy')!.description,
      /every key of db 3 .*\(into db 5\)/,
    );
  });

  test('every step that reads or writes data carries the mapping; the busy target db 3 is not in the way', () => {
    const p = remapped();
    assert.equal(p.strategy, 'dump-restore', JSON.stringify(p.blockers));
    for (const kind of ['bulk_copy', 'live_sync', 'verify'] as const) {
      const s = p.steps.find((x) => x.kind === kind);
      assert.ok(s, kind);
      assert.deepEqual(s.params.dbs, [3], kind);
      assert.deepEqual(s.params.dbRemap, { from: 3, to: 5 }, kind);
    }
    assert.match(
      p.steps.find((s) => s.kind === 'bulk_copy')!.description,
      /SCAN db 3 .*to the target \(into db 5\)/,
    );
    assert.equal(p.databases, 'db 3 -> db 5 only (the databases in the URLs)');
    assert.ok(
      p.warnings.some(
        (w) => w.code === 'url-db-leaves-out' && /db 0 \(10 keys\) are not copied/.test(w.message),
      ),
    );
  });

  test('a busy target db 5 is the one that counts', () => {
    const p = plan(
      { dbs: { 3: 100 } },
      { missing: MANAGED_BLOCKS, dbs: { 5: 2 } },
      { dbs: [3], dbsFromUrl: true, dbRemap: { from: 3, to: 5 } },
    );
    assert.ok(
      p.blockers.some((b) => b.code === 'target-not-empty' && /db 5: 2 keys/.test(b.message)),
      JSON.stringify(p.blockers),
    );
  });

  test('replication is ruled out, with the reason', () => {
    const p = plan(
      { dbs: { 3: 100 } },
      {},
      { strategy: 'replication', dbs: [3], dbsFromUrl: true, dbRemap: { from: 3, to: 5 } },
    );
    assert.equal(p.strategy, null);
    const r = p.assessments.find((a) => a.strategy === 'replication')!;
    assert.ok(
      r.reasons.some((x) => /cannot copy db 3 into db 5/.test(x)),
      JSON.stringify(r.reasons),
    );
    const sameNumber = plan({ dbs: { 0: 100 } }, {}, { strategy: 'replication', dbs: [0], dbsFromUrl: true });
    assert.equal(sameNumber.strategy, null, 'a URL selection (/0) rules replication out too');
  });
});
