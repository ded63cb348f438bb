// Approve, Done, Run again and Ask again: called directly with stand-in ack/respond (the Bolt
// starter's test style), first with recording handlers (what is forwarded), then with the real
// handler on a fake runbook (which runbook call each click makes, and what the clicker reads).
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import type { ActionResult } from '../../../../../src/runbook/service.js';
import { encodeStepRef } from '../../../../../src/slack/blocks/approval.js';
import { stepDecision } from '../../../../../src/slack/listeners/actions/step-decision.js';
import {
  type StepDecisionRequest,
  type StepDecisionService,
  StepDecisions,
} from '../../../../../src/slack/listeners/actions/step-decision-handlers.js';
import { UserError } from '../../../../../src/util/errors.js';
import { recordingHandlers } from '../../../../fake-slack/stub-deps.js';
import { memoryMigration } from '../../../runbook/fixtures.js';
import { bodyOf, buttonClick, testLogger } from '../helpers.js';

const REF = { migrationId: 'mig-1', stepId: '3-verify', stepHash: 'abcdef0123' };

function setup() {
  const handlers = recordingHandlers();
  const deps = { logger: testLogger().logger, decisions: handlers.decisions };
  return { deps, handlers };
}

test('step decisions: acked, forwarded with the clicker and the message; bad values refused', async () => {
  const { deps, handlers } = setup();
  const value = encodeStepRef(REF);
  const ok = buttonClick(value);
  await stepDecision('reject', deps)(ok.args);
  assert.equal(ok.ack.mock.callCount(), 1);
  assert.deepEqual(handlers.received[0], {
    kind: 'reject',
    request: {
      migrationId: 'mig-1',
      stepId: '3-verify',
      stepHash: 'abcdef0123',
      userId: 'U0BUDDY',
      channelId: 'C0MIGRATE',
      messageTs: '1700000000.000100',
    },
  });
  assert.match(bodyOf(ok.respond.mock.calls[0]!), /reject recorded/);

  const bad = buttonClick('{"migration":"mig-1","approved":true}');
  await stepDecision('approve', deps)(bad.args);
  assert.equal(bad.ack.mock.callCount(), 1);
  assert.equal(handlers.received.length, 1, 'not forwarded');
  assert.match(bodyOf(bad.respond.mock.calls[0]!), /does not belong to a step/);

  deps.decisions.approve = async () => {
    throw new UserError('You requested this migration, so someone else has to approve it.');
  };
  const self = buttonClick(value);
  await stepDecision('approve', deps)(self.args);
  assert.match(bodyOf(self.respond.mock.calls[0]!), /someone else has to approve/);
});

test('Done and the follow-up buttons go to confirm, retry and requestAgain', async () => {
  const { deps, handlers } = setup();
  for (const kind of ['confirm', 'retry', 'requestAgain'] as const) {
    const c = buttonClick(encodeStepRef(REF), { threadTs: '1700000000.000100' });
    await stepDecision(kind, deps)(c.args);
    assert.equal(handlers.received.at(-1)?.kind, kind);
    const request = handlers.received.at(-1)?.request as StepDecisionRequest;
    assert.equal(request.threadTs, '1700000000.000100');
  }
});

test('a failing ack stops the click before anything is forwarded', async () => {
  const { deps, handlers } = setup();
  const c = buttonClick(encodeStepRef(REF));
  c.ack.mock.mockImplementation(async () => {
    throw new Error('socket closed');
  });
  await stepDecision('approve', deps)(c.args);
  assert.equal(handlers.received.length, 0);
  assert.equal(c.respond.mock.callCount(), 0);
});

/** A runbook that accepts every decision (approve: with the step's status after it). */
function fakeRunbook(stepStatusAfterApproval: 'approved' | 'awaiting_approval' = 'approved') {
  const accepted = (message: string): ActionResult => {
    const migration = memoryMigration({ id: REF.migrationId });
    const step = migration.steps[0]!;
    step.id = REF.stepId;
    step.status = stepStatusAfterApproval;
    return { ok: true, migration, message, value: undefined };
  };
  const service = {
    approve: mock.fn(async (..._a: unknown[]) => accepted('approval 1 of 2 recorded')),
    reject: mock.fn(async (..._a: unknown[]) => accepted('rejected')),
    confirm: mock.fn(async (..._a: unknown[]) => accepted('confirmed')),
    retryStep: mock.fn(async (..._a: unknown[]) => accepted('retrying')),
    requestApproval: mock.fn(async (..._a: unknown[]) => accepted('requested again')),
  };
  return { service, typed: service as unknown as StepDecisionService };
}

test('each click makes its runbook call as the clicker; an accepted decision needs no reply', async () => {
  const { service, typed } = fakeRunbook();
  const deps = { logger: testLogger().logger, decisions: new StepDecisions(typed) };
  const value = encodeStepRef(REF);
  const calls = {
    approve: () => service.approve.mock.calls,
    confirm: () => service.confirm.mock.calls,
    retry: () => service.retryStep.mock.calls,
    requestAgain: () => service.requestApproval.mock.calls,
  };
  const expected = {
    approve: ['mig-1', '3-verify', 'U0BUDDY', 'abcdef0123'],
    confirm: ['mig-1', '3-verify', 'U0BUDDY', 'abcdef0123'],
    retry: ['mig-1', '3-verify', 'U0BUDDY'],
    requestAgain: ['mig-1', '3-verify', 'U0BUDDY'],
  };
  for (const kind of ['approve', 'confirm', 'retry', 'requestAgain'] as const) {
    const c = buttonClick(value);
    await stepDecision(kind, deps)(c.args);
    assert.equal(c.ack.mock.callCount(), 1, kind);
    assert.equal(calls[kind]().length, 1, `${kind}: one runbook call`);
    assert.deepEqual(calls[kind]()[0]!.arguments, expected[kind], kind);
    assert.equal(c.respond.mock.callCount(), 0, `${kind}: its event updates the thread, no reply`);
  }
});

test('an approval of a quorum that needs more is acknowledged to the clicker', async () => {
  const { typed } = fakeRunbook('awaiting_approval');
  const deps = { logger: testLogger().logger, decisions: new StepDecisions(typed) };
  const c = buttonClick(encodeStepRef(REF));
  await stepDecision('approve', deps)(c.args);
  assert.match(bodyOf(c.respond.mock.calls[0]!), /Approval 1 of 2 recorded\./);
  assert.match(bodyOf(c.respond.mock.calls[0]!), /"response_type":"ephemeral"/);
});

test('a refusal from the runbook is shown to the clicker with what to do next; unknown steps are not named', async () => {
  const { service, typed } = fakeRunbook();
  const deps = { logger: testLogger().logger, decisions: new StepDecisions(typed) };
  service.approve.mock.mockImplementation(async () => ({
    ok: false,
    code: 'requester',
    reason: 'you requested this migration, so someone else has to approve it',
  }));
  const self = buttonClick(encodeStepRef(REF));
  await stepDecision('approve', deps)(self.args);
  const shown = bodyOf(self.respond.mock.calls[0]!);
  assert.match(shown, /You requested this migration, so someone else has to approve it\./);
  assert.match(shown, /Your buddy \(or an approver\) has to decide this one/);

  service.retryStep.mock.mockImplementation(async () => ({
    ok: false,
    code: 'not_found',
    reason: 'no migration mig-secret-name',
  }));
  const gone = buttonClick(encodeStepRef(REF));
  await stepDecision('retry', deps)(gone.args);
  const said = bodyOf(gone.respond.mock.calls[0]!);
  assert.match(said, /does not belong to a step of any migration here/);
  assert.ok(!said.includes('mig-secret-name'));
});
