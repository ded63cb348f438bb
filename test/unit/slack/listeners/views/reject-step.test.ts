// The reject dialog's submission decides: with the reason, as the person who submitted; a reason
// that looks like a secret is refused inside the dialog. Called directly with stand-in ack and
// gateway, in the Bolt starter's style; the last test runs the real handler on a fake runbook.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import type { ActionResult } from '../../../../../src/runbook/service.js';
import { rejectModal } from '../../../../../src/slack/blocks/reject-modal.js';
import { StepDecisions } from '../../../../../src/slack/listeners/actions/step-decision-handlers.js';
import { rejectSubmitted } from '../../../../../src/slack/listeners/views/reject-step.js';
import { recordingHandlers } from '../../../../fake-slack/stub-deps.js';
import { memoryMigration } from '../../../runbook/fixtures.js';
import { testLogger } from '../helpers.js';

const REF = { migrationId: 'mig-1', stepId: '2-bulk_copy', stepHash: 'abc123' };

function setup() {
  const { logger, lines } = testLogger();
  const handlers = recordingHandlers();
  const ephemerals: unknown[][] = [];
  const gateway = {
    postEphemeral: async (...args: unknown[]) => {
      ephemerals.push(args);
    },
  };
  return {
    deps: { logger, decisions: handlers.decisions, gateway: gateway as never },
    handlers,
    lines,
    ephemerals,
  };
}

function submission(reason: string | null, user = 'U0BUDDY', metadata?: string) {
  const ack = mock.fn(async (_body?: unknown) => {});
  const view = {
    private_metadata:
      metadata ?? rejectModal(REF, { channelId: 'C0MIG', threadTs: '1700000000.000100' }).private_metadata,
    state: { values: { mb_reject_reason: { reason: { type: 'plain_text_input', value: reason } } } },
  };
  return { args: { ack, view, body: { user: { id: user } } } as never, ack };
}

test('the submission rejects with the reason, as the person who submitted', async () => {
  const { deps, handlers } = setup();
  const s = submission('  wait for\u0007 the batch  ');
  await rejectSubmitted(deps)(s.args);
  assert.deepEqual(s.ack.mock.calls[0]!.arguments, []);
  assert.deepEqual(handlers.received[0], {
    kind: 'reject',
    request: {
      ...REF,
      channelId: 'C0MIG',
      threadTs: '1700000000.000100',
      userId: 'U0BUDDY',
      reason: 'wait for the batch',
    },
  });
  const none = submission(null);
  await rejectSubmitted(deps)(none.args);
  assert.equal(
    (handlers.received[1]!.request as { reason?: string }).reason,
    undefined,
    'the reason is optional',
  );
});

test('a reason that looks like a secret is refused inside the dialog and goes nowhere', async () => {
  const { deps, handlers, lines } = setup();
  const s = submission('the old one had requirepass=hunter2-secret-99');
  await rejectSubmitted(deps)(s.args);
  const body = s.ack.mock.calls[0]!.arguments[0] as {
    response_action: string;
    errors: Record<string, string>;
  };
  assert.equal(body.response_action, 'errors');
  assert.ok(body.errors.mb_reject_reason);
  assert.ok(!JSON.stringify(body).includes('hunter2-secret-99'));
  assert.equal(handlers.received.length, 0);
  assert.ok(!lines.join('').includes('hunter2-secret-99'));
});

test('a refused rejection is told to the submitter, ephemerally, in the thread', async () => {
  const { deps, ephemerals } = setup();
  deps.decisions.reject = async () => ({ text: 'You requested this migration', blocks: [] });
  await rejectSubmitted(deps)(submission('no', 'U0REQ').args);
  assert.equal(ephemerals.length, 1);
  const [channel, user, message, threadTs] = ephemerals[0]!;
  assert.deepEqual([channel, user, threadTs], ['C0MIG', 'U0REQ', '1700000000.000100']);
  assert.match(JSON.stringify(message), /You requested this migration/);
  // Tampered metadata: nothing decided, and the dialog says why instead of closing silently.
  const { deps: d2, handlers: h2 } = setup();
  const tampered = submission('x', 'U0BUDDY', '{"r":"v1|a|b"}');
  await rejectSubmitted(d2)(tampered.args);
  assert.equal(h2.received.length, 0);
  const answer = tampered.ack.mock.calls[0]!.arguments[0] as { response_action: string; view: unknown };
  assert.equal(answer.response_action, 'update');
  assert.match(JSON.stringify(answer.view), /nothing was done/);
});

test('the real handler rejects through the runbook with the reason; a refusal reaches the submitter', async () => {
  const { deps, ephemerals } = setup();
  const reject = mock.fn(
    async (..._args: unknown[]): Promise<ActionResult> => ({
      ok: true,
      migration: memoryMigration(),
      message: 'rejected',
      value: undefined,
    }),
  );
  const service = { reject } as unknown as ConstructorParameters<typeof StepDecisions>[0];
  const real = { ...deps, decisions: new StepDecisions(service) };
  const s = submission('wait for the batch');
  await rejectSubmitted(real)(s.args);
  assert.deepEqual(reject.mock.calls[0]!.arguments, [
    'mig-1',
    '2-bulk_copy',
    'U0BUDDY',
    'abc123',
    'wait for the batch',
  ]);
  assert.equal(ephemerals.length, 0, 'an accepted rejection needs no reply: its event updates the thread');

  reject.mock.mockImplementation(async () => ({
    ok: false,
    code: 'stale_hash',
    reason: 'the step changed since this request was posted',
  }));
  await rejectSubmitted(real)(submission('no').args);
  assert.equal(ephemerals.length, 1);
  const shown = JSON.stringify(ephemerals[0]![2]);
  assert.match(shown, /The step changed since this request was posted\./);
  assert.match(shown, /Use the newest request in the thread/);
});
