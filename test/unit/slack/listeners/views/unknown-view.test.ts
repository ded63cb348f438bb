// The submission of a dialog this app does not know: replaced by one saying nothing was done.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { unknownView } from '../../../../../src/slack/listeners/views/unknown-view.js';
import { VIEW_MAX_BLOCKS, validateBlocks } from '../../../../fake-slack/block-kit.js';
import { testLogger } from '../helpers.js';

test('an unknown dialog is answered by updating it to say nothing was done', async () => {
  const { logger, lines } = testLogger();
  const ack = mock.fn(async (_body?: unknown) => {});
  await unknownView({ logger })({ ack, body: { user: { id: 'U0ALICE' } }, view: {} } as never);
  assert.equal(ack.mock.callCount(), 1);
  const answer = ack.mock.calls[0]!.arguments[0] as { response_action: string; view: { blocks: unknown[] } };
  assert.equal(answer.response_action, 'update');
  assert.deepEqual(validateBlocks(answer.view.blocks, VIEW_MAX_BLOCKS, '/view/blocks'), []);
  assert.match(JSON.stringify(answer.view), /nothing was done/);
  assert.match(lines.join(''), /submission of a dialog this app does not know/);
});
