import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STEP_STATUSES, type StepStatus } from '../../../src/runbook/model.js';
import {
  canTransition,
  currentStep,
  deriveMigrationStatus,
  isTerminal,
  nextStatus,
  STEP_EVENTS,
  type StepEvent,
} from '../../../src/runbook/state-machine.js';
import { memoryMigration } from './fixtures.js';

// Every allowed move, written out independently of the implementation's table.
const ALLOWED: [StepStatus, StepEvent, StepStatus][] = [
  ['pending', 'request_approval', 'awaiting_approval'],
  ['expired', 'request_approval', 'awaiting_approval'],
  ['running', 'request_confirmation', 'awaiting_approval'],
  ['awaiting_approval', 'approve', 'approved'],
  ['awaiting_approval', 'confirm', 'approved'],
  ['awaiting_approval', 'reject', 'rejected'],
  ['awaiting_approval', 'expire', 'expired'],
  ['pending', 'claim', 'running'],
  ['approved', 'claim', 'running'],
  ['running', 'takeover', 'running'],
  ['running', 'release', 'running'],
  ['running', 'succeed', 'succeeded'],
  ['running', 'fail', 'failed'],
  ['pending', 'abort', 'aborted'],
  ['awaiting_approval', 'abort', 'aborted'],
  ['approved', 'abort', 'aborted'],
  ['expired', 'abort', 'aborted'],
  ['running', 'abort', 'aborted'],
  ['failed', 'retry', 'pending'],
];

describe('step state machine', () => {
  for (const from of STEP_STATUSES) {
    for (const event of STEP_EVENTS) {
      const row = ALLOWED.find(([f, e]) => f === from && e === event);
      it(`${from} --${event}--> ${row ? row[2] : 'refused'}`, () => {
        assert.equal(nextStatus(from, event), row ? row[2] : null);
        assert.equal(canTransition(from, event), Boolean(row));
      });
    }
  }

  it('never runs a step that was not approved when it needs approval: awaiting -> running is no move', () => {
    assert.equal(nextStatus('awaiting_approval', 'claim'), null);
    assert.equal(nextStatus('expired', 'claim'), null);
    assert.equal(nextStatus('rejected', 'claim'), null);
  });

  it('succeeded, rejected and aborted steps have no way out', () => {
    for (const s of ['succeeded', 'rejected', 'aborted'] as const) {
      assert.ok(isTerminal(s));
      assert.deepEqual(
        STEP_EVENTS.filter((e) => canTransition(s, e)),
        [],
      );
    }
    assert.ok(!isTerminal('expired'));
  });
});

describe('migration status', () => {
  it('follows from the steps', () => {
    const m = memoryMigration();
    assert.equal(deriveMigrationStatus({ ...m, startedAt: undefined }), 'created');
    assert.equal(deriveMigrationStatus(m), 'running');
    m.steps[0]!.status = 'succeeded';
    m.steps[1]!.status = 'awaiting_approval';
    assert.equal(deriveMigrationStatus(m), 'awaiting_approval');
    m.steps[1]!.status = 'expired';
    assert.equal(deriveMigrationStatus(m), 'expired');
    m.steps[1]!.status = 'rejected';
    assert.equal(deriveMigrationStatus(m), 'rejected');
    m.steps[1]!.status = 'failed';
    assert.equal(deriveMigrationStatus(m), 'failed');
    for (const s of m.steps) s.status = 'succeeded';
    assert.equal(deriveMigrationStatus(m), 'succeeded');
  });

  it('is aborting while a step still runs after an abort, then aborted', () => {
    const m = memoryMigration({ abort: { userId: 'U1', at: 'x' } });
    m.steps[0]!.status = 'running';
    assert.equal(deriveMigrationStatus(m), 'aborting');
    m.steps[0]!.status = 'aborted';
    assert.equal(deriveMigrationStatus(m), 'aborted');
  });

  it('the current step is the first one not succeeded', () => {
    const m = memoryMigration();
    assert.equal(currentStep(m.steps)?.id, m.steps[0]!.id);
    m.steps[0]!.status = 'succeeded';
    assert.equal(currentStep(m.steps)?.id, m.steps[1]!.id);
  });
});
