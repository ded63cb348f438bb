// A slash command pointed at this app that is not /migrate: answered in the ack.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { anyExcept } from '../../../../../src/slack/listeners/any-except.js';
import { unknownCommand } from '../../../../../src/slack/listeners/commands/unknown-command.js';
import { SLASH_COMMAND } from '../../../../../src/slack/slash-command/usage.js';
import { bodyOf, slashCommand, testLogger } from '../helpers.js';

test('another slash command is acked with what this app answers; nothing else is sent', async () => {
  const { logger, lines } = testLogger();
  const c = slashCommand('plan a b', 'C0MIGRATE', '/deploy');
  await unknownCommand({ logger })(c.args);
  assert.equal(c.ack.mock.callCount(), 1);
  const shown = bodyOf(c.ack.mock.calls[0]!);
  assert.match(shown, /"response_type":"ephemeral"/);
  assert.match(shown, /This app answers only \/migrate/);
  assert.match(shown, /\/migrate help/);
  assert.equal(c.respond.mock.callCount(), 0);
  assert.ok(!lines.join('').includes('plan a b'), 'the text is not logged');
});

test('the unknown-command listener matches every command but /migrate', () => {
  const matcher = anyExcept([SLASH_COMMAND]);
  assert.ok(!matcher.test(SLASH_COMMAND));
  assert.ok(matcher.test('/deploy'));
  assert.ok(matcher.test('/migrate2'));
});
