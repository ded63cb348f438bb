// Reject: the click opens the dialog at once (nothing decided), the submission decides. Called
// directly with stand-in ack/respond/client, in the Bolt starter's style.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { encodeStepRef } from '../../../../../src/slack/blocks/approval.js';
import { decodeRejectMetadata, rejectModal } from '../../../../../src/slack/blocks/reject-modal.js';
import { rejectClicked, stepDecision } from '../../../../../src/slack/listeners/actions/step-decision.js';
import type { StepDecisionRequest } from '../../../../../src/slack/listeners/deps.js';
import { rejectSubmitted } from '../../../../../src/slack/listeners/views/reject-step.js';
import { createLogger } from '../../../../../src/util/logger.js';
import { VIEW_MAX_BLOCKS, validateBlocks } from '../../../../fake-slack/block-kit.js';
import { recordingHandlers } from '../../../../fake-slack/stub-deps.js';

const REF = { migrationId: 'mig-1', stepId: '2-bulk_copy', stepHash: 'abc123' };

function setup() {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug' }, (line) => lines.push(line));
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

function click(value: string, opensView: (args: unknown) => Promise<unknown>) {
  const ack = mock.fn(async () => {});
  const respond = mock.fn(async (_body: unknown) => {});
  const views = { open: mock.fn(opensView) };
  const args = {
    ack,
    respond,
    client: { views },
    action: { type: 'button', action_id: 'mb_step_reject', value },
    body: {
      user: { id: 'U0BUDDY' },
      trigger_id: '123.456.trigger',
      channel: { id: 'C0MIG' },
      message: { ts: '1700000000.000200', thread_ts: '1700000000.000100' },
      container: { channel_id: 'C0MIG', message_ts: '1700000000.000200' },
    },
  };
  return { args: args as never, ack, respond, views };
}

test('a Reject click acks, opens the dialog with the trigger, and decides nothing', async () => {
  const { deps, handlers } = setup();
  const c = click(encodeStepRef(REF), async () => ({ ok: true }));
  await rejectClicked(deps)(c.args);
  assert.equal(c.ack.mock.callCount(), 1);
  assert.equal(c.views.open.mock.callCount(), 1);
  const opened = c.views.open.mock.calls[0]!.arguments[0] as {
    trigger_id: string;
    view: { private_metadata: string; blocks: unknown[] };
  };
  assert.equal(opened.trigger_id, '123.456.trigger');
  assert.deepEqual(validateBlocks(opened.view.blocks, VIEW_MAX_BLOCKS, '/view/blocks'), []);
  assert.deepEqual(decodeRejectMetadata(opened.view.private_metadata), {
    ...REF,
    channelId: 'C0MIG',
    threadTs: '1700000000.000100',
    messageTs: '1700000000.000200',
  });
  assert.equal(handlers.received.length, 0, 'nothing decided by the click');
  assert.equal(c.respond.mock.callCount(), 0);
});

test('when the dialog cannot open (expired trigger), the clicker is told to click again', async () => {
  const { deps } = setup();
  const c = click(encodeStepRef(REF), async () => {
    throw Object.assign(new Error('An API error occurred: expired_trigger_id'), {
      code: 'slack_webapi_platform_error',
    });
  });
  await rejectClicked(deps)(c.args);
  assert.match(JSON.stringify(c.respond.mock.calls[0]!.arguments[0]), /Click Reject again/);
  const stale = click('not-a-ref', async () => ({ ok: true }));
  await rejectClicked(deps)(stale.args);
  assert.equal(stale.views.open.mock.callCount(), 0);
  assert.match(JSON.stringify(stale.respond.mock.calls[0]!.arguments[0]), /does not belong to a step/);
});

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

test('Done and the follow-up buttons go to confirm, retry and requestAgain', async () => {
  const { deps, handlers } = setup();
  for (const kind of ['confirm', 'retry', 'requestAgain'] as const) {
    const c = click(encodeStepRef(REF), async () => ({}));
    await stepDecision(kind, deps)(c.args);
    assert.equal(handlers.received.at(-1)?.kind, kind);
    const request = handlers.received.at(-1)?.request as StepDecisionRequest;
    assert.equal(request.threadTs, '1700000000.000100');
  }
});
