// The field-TTL rule of the planner: a source with hashes whose fields have TTLs and a target
// that cannot hold field TTLs is a blocker (count and how it was found), or with dropFieldTtls a
// warning; a target that has them, or a source without any, is neither.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planMigration } from '../../../src/planner/plan.js';
import type { FieldTtlFacts, ProbeResult } from '../../../src/probe/types.js';
import { options, source, target } from './fixtures.js';

function withFieldTtls(p: ProbeResult, facts: FieldTtlFacts): ProbeResult {
  return { ...p, fieldTtls: facts };
}

const redis8 = { version: '8.0.2', rdbVersion: 12 };
const counted: FieldTtlFacts = {
  supported: true,
  hashes: 5,
  counted: 'info-keyspace',
  perDb: [
    { db: 0, hashes: 3 },
    { db: 2, hashes: 2 },
  ],
};
const none: FieldTtlFacts = { supported: false, hashes: 0, counted: 'unsupported', perDb: [] };
const src = () => withFieldTtls(source({ server: redis8, dbs: { 0: 100, 2: 10 } }), counted);
const codes = (list: { code: string }[]) => list.map((f) => f.code);

describe('planner: hash field TTLs', () => {
  test('a target without field TTLs blocks, naming the count, the dbs and how it was counted', () => {
    const plan = planMigration(
      src(),
      withFieldTtls(target({ server: { version: '7.0.15' } }), none),
      options(),
    );
    const blocker = plan.blockers.find((b) => b.code === 'field-ttls-unsupported-on-target');
    assert.ok(blocker, JSON.stringify(plan.blockers));
    assert.match(
      blocker.message,
      /5 hashes with per-field TTLs \(db 0: 3, db 2: 2; counted by INFO keyspace\)/,
    );
    assert.match(blocker.message, /--drop-field-ttls/);
    assert.equal(plan.strategy, null);
  });

  test('only the databases copied count', () => {
    const plan = planMigration(src(), withFieldTtls(target(), none), options({ dbs: [2] }));
    const blocker = plan.blockers.find((b) => b.code === 'field-ttls-unsupported-on-target');
    assert.match(blocker?.message ?? '', /2 hashes with per-field TTLs \(db 2: 2;/);
  });

  test('--drop-field-ttls turns it into a warning that the fields become persistent', () => {
    const plan = planMigration(src(), withFieldTtls(target(), none), options({ dropFieldTtls: true }));
    assert.ok(!codes(plan.blockers).includes('field-ttls-unsupported-on-target'));
    const warning = plan.warnings.find((w) => w.code === 'field-ttls-dropped');
    assert.match(warning?.message ?? '', /field TTLs of 5 hashes .* become persistent on the target/);
  });

  test('a sampled count says so', () => {
    const sampled: FieldTtlFacts = {
      supported: true,
      hashes: 1,
      counted: 'sampled',
      sampledHashes: 40,
      sampledAll: false,
      perDb: [{ db: 0, hashes: 1 }],
    };
    const plan = planMigration(
      withFieldTtls(source({ server: redis8 }), sampled),
      withFieldTtls(target(), none),
      options(),
    );
    const blocker = plan.blockers.find((b) => b.code === 'field-ttls-unsupported-on-target');
    assert.match(blocker?.message ?? '', /found by sampling 40 hashes, so there may be more/);
  });

  test('no finding when the target has field TTLs, the source has none, or a probe does not say', () => {
    const supported: FieldTtlFacts = { supported: true, hashes: 0, counted: 'info-keyspace', perDb: [] };
    const cases: [ProbeResult, ProbeResult][] = [
      [src(), withFieldTtls(target({ server: redis8 }), supported)],
      [withFieldTtls(source(), none), withFieldTtls(target(), none)],
      [src(), target()],
    ];
    for (const [s, t] of cases) {
      const plan = planMigration(s, t, options());
      const found = [...codes(plan.blockers), ...codes(plan.warnings)].filter((c) =>
        c.startsWith('field-ttls'),
      );
      assert.deepEqual(found, []);
    }
  });
});

describe('--drop-field-ttls reaches the steps that copy', () => {
  test('bulk copy and live sync get it from the approved parameters, and only when asked', async () => {
    const { copyOptionsFromParams } = await import('../../../src/strategies/dump-restore/bulk-copy.js');
    const { followerSpec } = await import('../../../src/strategies/live-phase/spec.js');
    const t = withFieldTtls(target(), none);
    const asked = planMigration(src(), t, options({ dropFieldTtls: true, strategy: 'dump-restore' }));
    const copy = asked.steps.find((s) => s.kind === 'bulk_copy');
    assert.equal(copy?.params.dropFieldTtls, true);
    assert.equal(copyOptionsFromParams(copy!.params).dropFieldTtls, true);
    const steps = asked.steps.map((s) => ({ ...s, status: 'pending' as const, attempts: 0 }));
    assert.equal(followerSpec({ steps } as never).live?.dropFieldTtls, true);

    const plain = planMigration(
      src(),
      withFieldTtls(target({ server: redis8 }), { ...none, supported: true }),
      options({ strategy: 'dump-restore' }),
    );
    const plainCopy = plain.steps.find((s) => s.kind === 'bulk_copy');
    assert.ok(plainCopy, plain.strategy ?? 'no strategy');
    assert.equal('dropFieldTtls' in plainCopy.params, false);
    assert.equal(copyOptionsFromParams(plainCopy.params).dropFieldTtls, undefined);
  });
});
