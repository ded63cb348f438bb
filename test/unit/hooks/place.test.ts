import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hooksSchema } from '../../../src/config/schema.js';
import { placeHooks } from '../../../src/hooks/place.js';
import { planMigration } from '../../../src/planner/plan.js';
import { options, source, target } from '../planner/fixtures.js';

const replication = planMigration(source(), target({ dbs: {} }), options({ strategy: 'replication' })).steps;
const migrate = planMigration(source(), target({ dbs: {} }), options({ strategy: 'migrate' })).steps;

const hooks = hooksSchema.parse({
  maint_on: { command: './maint on', at: 'before_cutover', gated: true },
  announce: { url: 'https://chat.example/hook', at: 'before_cutover' },
  flip: { url: 'https://deploy.example/flip?token=abc', at: 'repoint' },
  maint_off: { command: './maint off', at: 'after_cutover' },
  warmup: { command: './warm', at: 'before_start' },
  report: { command: './report', at: 'end' },
  manual_only: { command: './by-name' },
});

describe('placeHooks', () => {
  it('puts a maintenance-window checklist into a replication runbook', () => {
    const steps = placeHooks(replication, { hooks });
    assert.deepEqual(
      steps.map((s) => (s.kind === 'hook' ? `hook:${s.params.hook}` : s.kind)),
      [
        'preflight',
        'hook:warmup',
        'start_replication',
        'wait_sync',
        'verify',
        'hook:maint_on',
        'hook:announce',
        'make_writable',
        'repoint',
        'drain_check',
        'promote',
        'hook:maint_off',
        'post_verify',
        'hook:report',
      ],
    );
    const maint = steps.find((s) => s.params.hook === 'maint_on')!;
    assert.equal(maint.id, 'hook-before_cutover-maint_on');
    assert.equal(maint.needsApproval, true);
    assert.equal(maint.params.point, 'before_cutover');
    assert.equal(maint.params.source, replication[0]!.params.source, 'bound to the same endpoints');
    const repoint = steps.find((s) => s.kind === 'repoint')!;
    assert.equal(repoint.params.hook, 'flip');
    assert.ok(!repoint.description.includes('token'), 'the webhook URL path is not shown');
    // Planned steps keep their ids; the input is not changed.
    assert.deepEqual(
      steps.filter((s) => s.kind !== 'hook').map((s) => s.id),
      replication.map((s) => s.id),
    );
    assert.equal(replication.find((s) => s.kind === 'repoint')!.params.hook, 'repoint');
  });

  it('uses the write pause as the cutover of a MIGRATE runbook', () => {
    const steps = placeHooks(migrate, { hooks });
    const kinds = steps.map((s) => (s.kind === 'hook' ? `hook:${s.params.hook}` : s.kind));
    assert.ok(kinds.indexOf('hook:maint_on') === kinds.indexOf('write_pause') - 2);
    assert.equal(kinds.indexOf('hook:maint_off'), kinds.indexOf('resume_writes') + 1);
  });

  it('changes nothing without placed hooks', () => {
    assert.deepEqual(placeHooks(replication, {}), replication);
    assert.deepEqual(
      placeHooks(replication, { hooks: hooksSchema.parse({ x: { command: 'true' } }) }),
      replication,
    );
  });
});

describe('hooks config', () => {
  it('names the field of a mistake', () => {
    const both = hooksSchema.safeParse({ h: { command: 'x', url: 'https://a.example' } });
    assert.equal(both.success, false);
    assert.match(both.error!.issues[0]!.message, /exactly one of command or url/);
    const secret = hooksSchema.safeParse({ h: { command: 'x', secret: 'abcd' } });
    assert.deepEqual(secret.error!.issues[0]!.path, ['h', 'secret']);
    const two = hooksSchema.safeParse({
      a: { command: 'x', at: 'repoint' },
      b: { command: 'y', at: 'repoint' },
    });
    assert.match(two.error!.issues[0]!.message, /only one hook can be at "repoint"/);
    const point = hooksSchema.safeParse({ a: { command: 'x', at: 'lunchtime' } });
    assert.equal(point.success, false);
  });

  it('takes durations and defaults gated to false', () => {
    const parsed = hooksSchema.parse({ a: { command: 'x', timeout: '2m' } });
    assert.equal(parsed.a!.timeout, 120_000);
    assert.equal(parsed.a!.gated, false);
  });
});
