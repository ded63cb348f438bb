// Every builder's output must be accepted by Slack: checked with the fake server's validator and by
// actually posting it through a real WebClient to the fake server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { webApi } from '@slack/bolt';
import {
  type ApprovalRequestView,
  approvalRequestMessage,
  CARD_TEXT_BUDGET,
  decidedApprovalMessage,
  decodeStepRef,
  encodeStepRef,
  endpointSummaries,
  endpointsMessage,
  errorReply,
  helpMessage,
  homeView,
  type MigrationCardView,
  migrationCard,
  type SlackMessage,
} from '../../../../src/slack/blocks/index.js';
import { SUBCOMMANDS } from '../../../../src/slack/slash-command/usage.js';
import {
  FAKE_BOT_TOKEN,
  type FakeSlack,
  MESSAGE_MAX_BLOCKS,
  startFakeSlack,
  VIEW_MAX_BLOCKS,
  validateBlocks,
} from '../../../fake-slack/index.js';
import { TEST_ENDPOINT_PASSWORD, testConfig } from '../../../fake-slack/stub-deps.js';

let fake: FakeSlack;
let client: webApi.WebClient;

before(async () => {
  fake = await startFakeSlack();
  client = new webApi.WebClient(FAKE_BOT_TOKEN, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
});
after(() => fake.close());

async function assertAccepted(name: string, message: SlackMessage): Promise<void> {
  assert.deepEqual(validateBlocks(message.blocks, MESSAGE_MAX_BLOCKS), [], name);
  assert.ok(message.text.length > 0 && message.text.length <= 3000, `${name}: fallback text`);
  const res = await client.chat.postMessage({ channel: 'C0TEST', ...message });
  assert.equal(res.ok, true, name);
}

const approval: ApprovalRequestView = {
  migrationId: 'mig-42',
  stepId: '7-promote',
  stepHash: 'a'.repeat(64),
  gate: 'approval',
  stepTitle: 'Promote the target',
  description: 'Runs REPLICAOF NO ONE on new-cache; it stops following old-cache.',
  irreversible: true,
  requesterId: 'U0REQUESTER',
  buddyId: 'U0BUDDY',
  approversHint: '<!subteam^S0SRE>',
  expiresAt: new Date('2030-01-01T12:00:00Z'),
};

function card(n: number, long: string): MigrationCardView {
  return {
    id: 'mig-42',
    state: 'running',
    source: { name: 'old-cache', detail: `Redis 6.2.14 · ${long}` },
    target: { name: 'new-cache', detail: `Redis 7.2.4 · ${long}` },
    strategy: {
      chosen: 'dump-restore',
      why: `replication is blocked on the target, ${long}`,
      ruledOut: Array.from({ length: n }, (_, i) => ({
        strategy: `strategy-${i}`,
        reasons: [`REPLICAOF is not available: ${long}`, 'CONFIG is disabled'],
      })),
    },
    blockers: Array.from({ length: n }, (_, i) => `blocker ${i}: ${long}`),
    warnings: Array.from(
      { length: n },
      (_, i) => `warning ${i}: keys with TTL under 10 s may expire ${long}`,
    ),
    steps: Array.from({ length: n }, (_, i) => ({
      id: `${i}-step`,
      title: `Step number ${i} <with> & odd *text* ${long.slice(0, 80)}`,
      state: (['succeeded', 'succeeded', 'running', 'awaiting_approval', 'pending', 'failed'] as const)[
        i % 6
      ]!,
      gated: i % 3 === 0,
      note: i % 5 === 0 ? `took 3s ${long.slice(0, 40)}` : undefined,
    })),
    requesterId: 'U0REQUESTER',
    buddyId: 'U0BUDDY',
    progress: {
      label: 'Bulk copy',
      keysCopied: 123_456,
      keysTotal: 1_000_000,
      keysPerSecond: 4200,
      etaSeconds: 208,
      lagSeconds: 0,
    },
    updatedAt: new Date(),
    footer: 'Decisions and results are in the thread.',
  };
}

test('help (all and per topic) is accepted', async () => {
  await assertAccepted('help', helpMessage());
  for (const topic of SUBCOMMANDS) await assertAccepted(`help ${topic}`, helpMessage(topic));
});

test('endpoints: names and redacted URLs only, and 500 endpoints still fit', async () => {
  const config = testConfig();
  const message = endpointsMessage(endpointSummaries(config), config.file);
  await assertAccepted('endpoints', message);
  const shown = JSON.stringify(message);
  assert.match(shown, /old-cache/);
  assert.match(shown, /redis:\/\/app:\*\*\*@10\.0\.0\.5:6379\/0/);
  assert.ok(!shown.includes(TEST_ENDPOINT_PASSWORD));
  assert.match(shown, /the self-hosted box/);

  const many = Array.from({ length: 500 }, (_, i) => ({
    name: `endpoint-${i}`,
    redactedUrl: `rediss://user:***@host-${i}.example.com:6380/0`,
    tls: true,
    cluster: i % 2 === 0,
    description: 'x'.repeat(200),
  }));
  const big = endpointsMessage(many);
  await assertAccepted('500 endpoints', big);
  assert.match(JSON.stringify(big), /… and \d+ more endpoints/);
  await assertAccepted('no endpoints', endpointsMessage([], 'cfg.yml'));
});

test('approval request: Approve primary (confirmed), Reject danger (opens a dialog), opaque values', async () => {
  const message = approvalRequestMessage(approval);
  await assertAccepted('approval', message);
  const actions = message.blocks.find((b) => b.type === 'actions') as {
    elements: { action_id: string; style: string; value: string; confirm?: { style?: string } }[];
  };
  assert.deepEqual(
    actions.elements.map((e) => [e.action_id, e.style, e.confirm?.style]),
    [
      ['mb_step_approve', 'primary', 'primary'],
      // Reject's confirmation is the dialog it opens (with an optional reason).
      ['mb_step_reject', 'danger', undefined],
    ],
  );
  for (const e of actions.elements) {
    assert.deepEqual(decodeStepRef(e.value), {
      migrationId: 'mig-42',
      stepId: '7-promote',
      stepHash: 'a'.repeat(64),
    });
  }
  assert.match(JSON.stringify(message), /cannot be undone/);
  const confirmation = approvalRequestMessage({
    ...approval,
    gate: 'confirmation',
    prompt: 'Repoint the apps',
  });
  await assertAccepted('confirmation', confirmation);
  const done = confirmation.blocks.find((b) => b.type === 'actions') as {
    elements: { action_id: string; text: { text: string }; style: string }[];
  };
  assert.deepEqual(
    done.elements.map((e) => [e.action_id, e.text.text, e.style]),
    [['mb_step_confirm', 'Done', 'primary']],
    'a confirmation gets one "Done" button',
  );
  assert.match(JSON.stringify(confirmation), /Repoint the apps/);
  // Huge titles and descriptions are cut to fit the button, dialog and section limits.
  const huge = 'T'.repeat(5000);
  await assertAccepted(
    'huge approval',
    approvalRequestMessage({ ...approval, stepTitle: huge, description: huge, prompt: huge }),
  );
});

test('decided replacement names who and when, and has no buttons left', async () => {
  for (const outcome of ['approved', 'rejected', 'confirmed', 'expired', 'aborted', 'superseded'] as const) {
    const by = outcome === 'expired' || outcome === 'superseded' ? undefined : 'U0BUDDY';
    const message = decidedApprovalMessage(approval, {
      outcome,
      by,
      at: '2030-01-01T12:05:00Z',
      reason: 'looks good',
    });
    await assertAccepted(outcome, message);
    assert.ok(!message.blocks.some((b) => b.type === 'actions'), outcome);
    const shown = JSON.stringify(message);
    if (by) assert.match(shown, /<@U0BUDDY>/);
    assert.match(shown, /<!date\^1893499500\^/);
  }
});

test('step references: round trip, and anything else is rejected', () => {
  const ref = { migrationId: 'm', stepId: 's', stepHash: 'h' };
  assert.deepEqual(decodeStepRef(encodeStepRef(ref)), ref);
  for (const bad of [
    undefined,
    42,
    '',
    'v1|m|s',
    'v2|m|s|h',
    'v1|m|s|h|x',
    'v1|m|s|h h',
    `v1|${'m'.repeat(200)}|s|h`,
  ]) {
    assert.equal(decodeStepRef(bad), undefined, String(bad));
  }
  assert.throws(() => encodeStepRef({ migrationId: 'a|b', stepId: 's', stepHash: 'h' }));
});

test('error reply shows the problem, the usage and what to do next', async () => {
  const message = errorReply({
    problem: 'plan needs a target.',
    usage: '/migrate plan <source> <target>',
    next: 'Run `/migrate endpoints`.',
  });
  await assertAccepted('error', message);
  const shown = JSON.stringify(message);
  assert.match(shown, /plan needs a target/);
  assert.match(shown, /\/migrate plan &lt;source&gt; &lt;target&gt;/);
  assert.match(shown, /migrate endpoints/);
});

test('status card: a small card shows everything', async () => {
  const message = migrationCard(card(4, 'short'));
  await assertAccepted('card', message);
  const shown = JSON.stringify(message);
  for (const part of [
    'old-cache',
    'new-cache',
    'dump-restore',
    '<@U0REQUESTER>',
    '<@U0BUDDY>',
    '123,456 / 1,000,000 keys',
    '4,200 keys/s',
    'ETA 3m 28s',
    'lag 0s',
    'strategy-0',
    'blocker 3',
    'warning 3',
    'Step number 3 &lt;with&gt; &amp;',
    ':lock:',
  ]) {
    assert.ok(shown.includes(part), part);
  }
});

test('status card: 200 steps, warnings, blockers and long texts still fit one message', async () => {
  const message = migrationCard(card(200, 'L'.repeat(500)));
  await assertAccepted('big card', message);
  assert.ok(message.blocks.length <= 15, `${message.blocks.length} blocks`);
  // Slack also refuses ~13k characters of blocks in total (msg_blocks_too_long, bolt-js #2509).
  const total = JSON.stringify(message.blocks)
    .match(/"text":"(?:[^"\\]|\\.)*"/g)!
    .reduce((n, t) => n + t.length - 9, 0);
  assert.ok(total <= CARD_TEXT_BUDGET, `${total} characters of text`);
  const shown = JSON.stringify(message);
  assert.match(shown, /… and \d+ more warnings/);
  assert.match(shown, /… and \d+ more blockers/);
  assert.match(shown, /… and \d+ more steps|steps succeeded/);
  const minimal = migrationCard({
    ...card(0, ''),
    strategy: { chosen: null, ruledOut: [] },
    progress: undefined,
    buddyId: undefined,
  });
  await assertAccepted('minimal card', minimal);
});

test('home view fits the 100-block view limit', async () => {
  const blocks = Array.from({ length: 150 }, () => helpMessage().blocks).flat();
  const view = homeView(blocks);
  assert.deepEqual(validateBlocks(view.blocks, VIEW_MAX_BLOCKS), []);
  const res = await client.views.publish({ user_id: 'U0X', view });
  assert.equal(res.ok, true);
});
