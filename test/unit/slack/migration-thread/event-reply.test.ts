// An audit event to its thread reply: every event type, the people as mentions, the follow-up
// buttons, the verification details. Every reply must pass Slack's Block Kit checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditEvent } from '../../../../src/runbook/events.js';
import { EVENT_TYPES } from '../../../../src/runbook/events.js';
import { decodeStepRef } from '../../../../src/slack/blocks/approval.js';
import { threadReply } from '../../../../src/slack/blocks/thread-reply.js';
import {
  eventReplyView,
  mentionize,
  verificationDetails,
} from '../../../../src/slack/migration-thread/event-reply.js';
import { MESSAGE_MAX_BLOCKS, validateBlocks } from '../../../fake-slack/block-kit.js';
import { memoryMigration } from '../../runbook/fixtures.js';

const valid = (blocks: unknown[], what: string) =>
  assert.deepEqual(validateBlocks(blocks, MESSAGE_MAX_BLOCKS), [], what);

function event(type: AuditEvent['type'], extra: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: '1-0',
    migrationId: 'mtest',
    type,
    at: '2026-01-01T00:00:00.000Z',
    actor: 'UBUDDY',
    message: `UBUDDY did ${type} for UREQ <!channel> *bold* <http://x|y>`,
    ...extra,
  };
}

test('every event type renders as a valid reply; people become mentions, nothing else is markup', () => {
  const m = memoryMigration({ buddy: 'UBUDDY' });
  for (const type of EVENT_TYPES) {
    const reply = threadReply(eventReplyView(event(type, { stepId: m.steps[1]!.id }), m));
    valid(reply.blocks, type);
    const shown = JSON.stringify(reply.blocks);
    assert.match(shown, /<@UBUDDY> did/, type);
    assert.match(shown, /for <@UREQ>/, type);
    assert.doesNotMatch(shown, /<!channel>|<http:/, `${type}: no @channel, no links from the text`);
  }
  assert.equal(mentionize('UBUDDY2 and UBUDDY', ['UBUDDY']), 'UBUDDY2 and <@UBUDDY>', 'whole ids only');
});

test('a failed step offers a retry button and says what to do; an expired request offers to ask again', () => {
  const m = memoryMigration({ buddy: 'UBUDDY' });
  m.steps[1]!.status = 'failed';
  const failed = eventReplyView(event('step_failed', { stepId: m.steps[1]!.id, actor: 'worker:w1' }), m);
  assert.equal(failed.action?.actionId, 'mb_step_retry');
  assert.deepEqual(decodeStepRef(failed.action?.value), {
    migrationId: 'mtest',
    stepId: m.steps[1]!.id,
    stepHash: m.steps[1]!.hash,
  });
  assert.match(String(failed.next), /\/migrate abort mtest/);
  m.steps[1]!.status = 'expired';
  const expired = eventReplyView(event('approval_expired', { stepId: m.steps[1]!.id, actor: 'system' }), m);
  assert.equal(expired.action?.actionId, 'mb_step_rerequest');
  // Once the step moved on, the old reply offers no button.
  m.steps[1]!.status = 'succeeded';
  assert.equal(eventReplyView(event('step_failed', { stepId: m.steps[1]!.id }), m).action, undefined);
});

test('verification replies list counts per database and the differences', () => {
  const lines = verificationDetails({
    dbs: [
      { db: 0, sourceKeys: 1200, targetKeys: 1200 },
      { db: 3, sourceKeys: 10, targetKeys: 7 },
    ],
    differences: { missing: { count: 3 }, value: { count: 0 } },
    keysChecked: 1210,
    sampled: false,
  });
  assert.deepEqual(lines, [
    '• db 0: 1,200 keys on the source, 1,200 on the target',
    '• db 3: 10 keys on the source, 7 on the target',
    '• 3 missing',
    '1,210 keys checked',
  ]);
  assert.deepEqual(verificationDetails(undefined), []);
});
