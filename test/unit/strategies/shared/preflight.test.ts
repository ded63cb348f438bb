import assert from 'node:assert/strict';
import { test } from 'node:test';
import { placeHooks } from '../../../../src/hooks/index.js';
import { planMigration } from '../../../../src/planner/plan.js';
import { renumberSteps } from '../../../../src/planner/steps/common.js';
import { UnrecoverableStepError } from '../../../../src/runbook/errors.js';
import { changedSteps, preflightExecutor } from '../../../../src/strategies/shared/preflight.js';
import { options, source, target } from '../../planner/fixtures.js';

const hooks = {
  hooks: {
    maint_on: { command: './maint.sh on', at: 'before_cutover', gated: true, timeout: 60_000 },
    flip: { url: 'https://deploy.example/flip', at: 'repoint', gated: false, timeout: 30_000 },
  },
} as unknown as Parameters<typeof placeHooks>[1];

test('preflight accepts a runbook whose hooks were placed from the config', () => {
  const planned = planMigration(source(), target(), options());
  const approved = { ...planned, steps: placeHooks(planned.steps, hooks) };
  assert.ok(
    approved.steps.some((s) => s.kind === 'hook'),
    'a hook step was placed',
  );
  assert.ok(approved.steps.some((s) => s.kind === 'repoint' && s.params.hook === 'flip'));
  const fresh = planMigration(source(), target(), options());
  assert.deepEqual(changedSteps(approved, fresh), []);
});

test('preflight still catches a step whose parameters changed', () => {
  const approved = planMigration(source(), target(), options());
  const fresh = planMigration(source(), target(), options());
  const step = fresh.steps.find((s) => s.kind !== 'preflight')!;
  step.params = { ...step.params, dbs: [0, 3] };
  assert.deepEqual(changedSteps(approved, fresh), [step.title]);
});

test('preflight refuses a target that gained function libraries since the plan, saying what the flags do', async () => {
  const approved = planMigration(source(), target(), options());
  assert.equal(approved.blockers.length, 0, 'planned against an empty target');
  const probes = [source(), target({ functionLibraries: 2 })];
  const executor = preflightExecutor({ plan: planMigration, probe: async () => probes.shift()! });
  const ctx = {
    endpoints: { source: {}, target: {} },
    migration: { plan: approved },
    reportProgress: () => {},
  } as unknown as Parameters<typeof executor.run>[0];
  await assert.rejects(executor.run(ctx), (err: Error) => {
    assert.ok(err instanceof UnrecoverableStepError);
    assert.match(
      err.message,
      /the plan no longer holds: target already holds 2 function libraries: use --replace/,
    );
    assert.match(
      err.message,
      /--flush-target to .*replace the target's function libraries with the source's/,
    );
    return true;
  });
});

test('preflight accepts hooks numbered as they run (the steps after them renumbered)', () => {
  const planned = planMigration(source(), target(), options());
  const approved = { ...planned, steps: renumberSteps(placeHooks(planned.steps, hooks)) };
  assert.ok(approved.steps.some((s, i) => s.kind !== 'hook' && s.id !== planned.steps[i]?.id));
  assert.deepEqual(changedSteps(approved, planMigration(source(), target(), options())), []);
});
