// Reject: the click opens the dialog at once (nothing decided); the submission decides
// (views/reject-step.test.ts). Called directly with stand-in ack/respond/client, in the Bolt
// starter's style.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeStepRef } from '../../../../../src/slack/blocks/approval.js';
import { decodeRejectMetadata } from '../../../../../src/slack/blocks/reject-modal.js';
import { rejectClicked } from '../../../../../src/slack/listeners/actions/reject-clicked.js';
import { VIEW_MAX_BLOCKS, validateBlocks } from '../../../../fake-slack/block-kit.js';
import { recordingHandlers } from '../../../../fake-slack/stub-deps.js';
import { buttonClick, testLogger } from '../helpers.js';

const REF = { migrationId: 'mig-1', stepId: '2-bulk_copy', stepHash: 'abc123' };

function setup() {
  const handlers = recordingHandlers();
  return { deps: { logger: testLogger().logger }, handlers };
}

/** A Reject click on a request in the thread of message ...100. */
function click(value: string, opensView: (args: unknown) => Promise<unknown>) {
  return buttonClick(value, {
    actionId: 'mb_step_reject',
    channel: 'C0MIG',
    messageTs: '1700000000.000200',
    threadTs: '1700000000.000100',
    opensView,
  });
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
