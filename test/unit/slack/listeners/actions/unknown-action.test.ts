// A button this app does not know (an older version's): acked, and the clicker told what to use.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HANDLED_ACTION_IDS } from '../../../../../src/slack/listeners/actions/index.js';
import { unknownAction } from '../../../../../src/slack/listeners/actions/unknown-action.js';
import { anyExcept } from '../../../../../src/slack/listeners/any-except.js';
import { bodyOf, buttonClick, testLogger } from '../helpers.js';

test('an unknown button is acked and answered ephemerally with where to look instead', async () => {
  const { logger, lines } = testLogger();
  const c = buttonClick('whatever', { actionId: 'mb_old_button' });
  await unknownAction({ logger })(c.args);
  assert.equal(c.ack.mock.callCount(), 1);
  const shown = bodyOf(c.respond.mock.calls[0]!);
  assert.match(shown, /"response_type":"ephemeral"/);
  assert.match(shown, /not one this app knows/);
  assert.match(shown, /\/migrate status/);
  assert.match(lines.join(''), /"user":"U0BUDDY"/);
});

test('a reply that cannot be sent is logged, not thrown', async () => {
  const { logger, lines } = testLogger();
  const c = buttonClick('whatever', { actionId: 'mb_old_button' });
  c.respond.mock.mockImplementation(async () => {
    throw new Error('expired_url');
  });
  await unknownAction({ logger })(c.args);
  assert.match(lines.join(''), /could not reply through response_url/);
});

test('the unknown-button listener matches every id but the handled ones', () => {
  const matcher = anyExcept(HANDLED_ACTION_IDS);
  for (const id of HANDLED_ACTION_IDS) assert.ok(!matcher.test(id), id);
  assert.ok(matcher.test('mb_old_button'));
  assert.ok(matcher.test(`${HANDLED_ACTION_IDS[0]}_v0`), 'a longer id is another id');
});
