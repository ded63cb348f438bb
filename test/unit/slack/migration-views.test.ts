// Runbook data to what Slack shows: the status card, the plan's card, approval requests and
// migration lists (event replies: migration-thread/event-reply.test.ts). Every message must pass
// Slack's Block Kit checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProgressUpdate } from '../../../src/runbook/model.js';
import { approvalRequestMessage } from '../../../src/slack/blocks/approval.js';
import { migrationListMessage } from '../../../src/slack/blocks/migration-list.js';
import { migrationCard } from '../../../src/slack/blocks/status-card.js';
import { rootMeta, rootOf } from '../../../src/slack/migration-thread/message-store.js';
import {
  approvalView,
  approversHint,
  cardView,
  migrationSummary,
  planCardView,
} from '../../../src/slack/migration-views.js';
import { MESSAGE_MAX_BLOCKS, validateBlocks } from '../../fake-slack/block-kit.js';
import { awaiting, memoryMigration, testPlan } from '../runbook/fixtures.js';

const valid = (blocks: unknown[], what: string) =>
  assert.deepEqual(validateBlocks(blocks, MESSAGE_MAX_BLOCKS), [], what);

test('the card shows each step with its state, who decided, and the progress of the running step', () => {
  const m = memoryMigration({ buddy: 'UBUDDY', meta: rootMeta({ channel: 'C1', ts: '1.000001' }) });
  m.steps[0]!.status = 'succeeded';
  m.steps[0]!.summary = 'the plan still holds';
  m.steps[1]!.status = 'running';
  m.steps[1]!.startedAt = '2026-01-01T00:00:05.000Z';
  m.steps[1]!.approvedBy = [{ userId: 'UBUDDY', at: '2026-01-01T00:00:04.000Z' }];
  const progress: Record<string, ProgressUpdate> = {
    [m.steps[1]!.id]: {
      migrationId: m.id,
      stepId: m.steps[1]!.id,
      at: '2026-01-01T00:00:06.000Z',
      phase: 'keys',
      keysDone: 1500,
      keysTotal: 6000,
      keysPerSecond: 500,
      etaSeconds: 9,
      lagMs: 1500,
    },
  };
  const view = cardView(m, progress);
  assert.equal(view.state, 'running');
  assert.deepEqual(view.progress, {
    label: 'bulk_copy step (keys)',
    keysCopied: 1500,
    keysTotal: 6000,
    keysPerSecond: 500,
    etaSeconds: 9,
    lagSeconds: 1.5,
  });
  assert.deepEqual(view.strategy.ruledOut, [
    { strategy: 'replication', reasons: ['REPLICAOF is not available'] },
  ]);
  const card = migrationCard(view);
  valid(card.blocks, 'card');
  const shown = JSON.stringify(card.blocks);
  assert.match(shown, /1,500 \/ 6,000 keys \(25%\) · 500 keys\/s · ETA 9s · lag 2s/);
  assert.match(shown, /the plan still holds/);
  assert.match(shown, /Approvals, results and verification are posted in the thread/);

  // Progress of an earlier run of the step is not shown.
  progress[m.steps[1]!.id]!.at = '2026-01-01T00:00:01.000Z';
  assert.equal(cardView(m, progress).progress, undefined);
});

test('step notes name the person as a mention: waiting for, approved by, rejected by', () => {
  const m = memoryMigration({ buddy: 'UBUDDY' });
  awaiting(m, 1, Date.parse('2026-01-01T00:00:00Z'));
  m.steps[3]!.status = 'rejected';
  m.steps[3]!.rejectedBy = { userId: 'UBUDDY', at: '2026-01-01T00:01:00Z', reason: 'not tonight' };
  const steps = cardView(m).steps;
  assert.deepEqual([steps[1]!.note, steps[1]!.by], ['waiting for', 'UBUDDY']);
  assert.deepEqual([steps[3]!.note, steps[3]!.by], ['rejected (not tonight) by', 'UBUDDY']);
  const shown = JSON.stringify(migrationCard(cardView(m)).blocks);
  assert.match(shown, /waiting for <@UBUDDY>/);
  assert.match(shown, /rejected \(not tonight\) by <@UBUDDY>/);
});

test('a blocked plan becomes a card marked blocked, for the requester only', () => {
  const plan = testPlan();
  plan.strategy = null;
  plan.blockers = [{ code: 'target-small', message: 'the target has 1 GB, the data needs 3 GB' }];
  const card = migrationCard(planCardView(plan, { source: 'src', target: 'dst', requesterId: 'UREQ' }));
  valid(card.blocks, 'blocked');
  assert.match(JSON.stringify(card.blocks), /Blocked/);
  assert.match(JSON.stringify(card.blocks), /the target has 1 GB/);
  assert.match(JSON.stringify(card.blocks), /Nothing was started/);
  const draft = planCardView(testPlan(), { source: 'src', target: 'dst', requesterId: 'UREQ', id: 'm1' });
  assert.equal(draft.state, 'created');
  assert.match(JSON.stringify(migrationCard(draft).blocks), /Migration m1: src → dst/);
});

test('approval requests mention the buddy, or else the migration\u2019s own approvers', () => {
  const m = memoryMigration(); // policy: UAPPROVER1, UAPPROVER2, UREQ (the requester) and group SDBA
  const step = awaiting(m, 1, 0);
  const configHint = approversHint({ users: ['ULEAD'], groups: ['S0SRE'] });
  const view = () =>
    JSON.stringify(
      approvalRequestMessage(approvalView(m, step, { gate: 'approval', stepHash: step.hash }, configHint))
        .blocks,
    );
  valid(
    approvalRequestMessage(approvalView(m, step, { gate: 'approval', stepHash: step.hash })).blocks,
    'request',
  );
  assert.match(
    view(),
    /an approver \(or <!subteam\^SDBA>, <@UAPPROVER1>, <@UAPPROVER2>\)/,
    'never the requester',
  );
  assert.doesNotMatch(view(), /S0SRE|ULEAD/, 'not this process\u2019s config');
  m.buddy = 'UAPPROVER1';
  assert.match(view(), /<@UAPPROVER1>, please review/);
  assert.doesNotMatch(view(), /subteam/, 'a quorum of one: the buddy alone');
  step.quorum = 2;
  assert.match(view(), /<@UAPPROVER1> \(or <!subteam\^SDBA>/, 'a quorum of two: the others are asked too');
  delete m.policy;
  delete m.buddy;
  step.quorum = 1;
  assert.match(view(), /an approver \(or <!subteam\^S0SRE>, <@ULEAD>\)/, 'an old document: the config');
});

test('lists of many migrations still fit one message', () => {
  const many = Array.from({ length: 500 }, (_, i) =>
    migrationSummary(memoryMigration({ id: `m${i}`, meta: rootMeta({ channel: 'C1', ts: `${i}.1` }) })),
  );
  const message = migrationListMessage(many);
  valid(message.blocks, 'list');
  assert.match(JSON.stringify(message.blocks), /more migrations/);
  assert.deepEqual(rootOf({ meta: { slackChannel: 'C1' } }), undefined, 'no ts: no root yet');
});

test('the card says which databases are copied into which, as the plan does', () => {
  const plan = testPlan();
  plan.databases = 'db 3 -> db 5 only (the databases in the URLs)';
  const card = migrationCard(planCardView(plan, { source: 'src', target: 'dst', requesterId: 'UREQ' }));
  valid(card.blocks, 'with databases');
  assert.match(JSON.stringify(card.blocks), /\*Databases\*\\ndb 3 -&gt; db 5 only/);
  const without = testPlan();
  delete without.databases;
  const plain = migrationCard(planCardView(without, { source: 'src', target: 'dst', requesterId: 'UREQ' }));
  assert.doesNotMatch(JSON.stringify(plain.blocks), /Databases/);
});

test('a step run per cluster shard shows a line per shard, up to a cap, then "and N more"', () => {
  const m = memoryMigration();
  m.steps[1]!.status = 'running';
  m.steps[1]!.startedAt = '2026-01-01T00:00:05.000Z';
  const shards = Array.from({ length: 14 }, (_, i) => ({
    shard: `${String(i).padStart(2, '0')}${'a'.repeat(38)}`,
    node: `10.0.0.${i}:6379`,
    state: (i === 3 ? 'failed' : i < 5 ? 'done' : 'running') as 'done' | 'running' | 'failed',
    keysDone: 1000 * i,
    keysTotal: i === 13 ? null : 20_000,
    worker: `worker-${i % 3}`,
  }));
  const progress: Record<string, ProgressUpdate> = {
    [m.steps[1]!.id]: {
      migrationId: m.id,
      stepId: m.steps[1]!.id,
      at: '2026-01-01T00:00:06.000Z',
      phase: 'keys',
      keysDone: 91_000,
      shards,
    },
  };
  const view = cardView(m, progress);
  assert.equal(view.progress?.shards?.length, 14);
  assert.equal(view.progress?.shards?.[0]?.label, '10.0.0.0:6379 (00aaaaaa)');
  const card = migrationCard(view);
  valid(card.blocks, 'card');
  const text = JSON.stringify(card.blocks);
  assert.match(text, /\*Shards:\* 4 of 14 done/);
  // The failed shard first, then the running ones; 10 lines, the other 4 counted.
  assert.match(text, /:x: `10\.0\.0\.3:6379 \(03aaaaaa\)` failed · 3,000 \/ 20,000 keys · worker-0/);
  assert.match(text, /_and 4 more_/);
  assert.equal((text.match(/10\.0\.0\.\d+:6379/g) ?? []).length, 10);
  assert.match(text, /`10\.0\.0\.13:6379 \(13aaaaaa\)` running · 13,000 keys · worker-1/);
});
