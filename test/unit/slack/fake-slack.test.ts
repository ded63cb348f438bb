// The fake Slack must fail calls the way Slack does, or tests against it prove nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { webApi } from '@slack/bolt';
import {
  FAKE_BOT_TOKEN,
  type FakeSlack,
  MESSAGE_MAX_BLOCKS,
  newTriggerId,
  startFakeSlack,
  VIEW_MAX_BLOCKS,
  validateBlocks,
} from '../../fake-slack/index.js';

let fake: FakeSlack;
let client: webApi.WebClient;

before(async () => {
  fake = await startFakeSlack({
    users: { U0ALEX: { name: 'alex', realName: 'Alex Smith' } },
    usergroups: { S0SRE: ['U0ALEX', 'U0SAM'] },
  });
  client = new webApi.WebClient(FAKE_BOT_TOKEN, {
    slackApiUrl: fake.apiUrl,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
  });
});
after(() => fake.close());

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const button = (extra: Record<string, unknown> = {}) => ({
  type: 'button',
  action_id: 'a',
  text: { type: 'plain_text', text: 'Go' },
  ...extra,
});
const actions = (...elements: unknown[]) => ({ type: 'actions', elements });

test('the validator enforces each Block Kit limit, and accepts what is just inside it', () => {
  const cases: [string, unknown[], unknown[]][] = [
    ['blocks per message', Array(50).fill({ type: 'divider' }), Array(51).fill({ type: 'divider' })],
    ['section text', [section('x'.repeat(3000))], [section('x'.repeat(3001))]],
    ['empty section text', [section('x')], [section('   ')]],
    [
      'fields count',
      [{ type: 'section', fields: Array(10).fill({ type: 'mrkdwn', text: 'f' }) }],
      [{ type: 'section', fields: Array(11).fill({ type: 'mrkdwn', text: 'f' }) }],
    ],
    [
      'field text',
      [{ type: 'section', fields: [{ type: 'mrkdwn', text: 'f'.repeat(2000) }] }],
      [{ type: 'section', fields: [{ type: 'mrkdwn', text: 'f'.repeat(2001) }] }],
    ],
    [
      'header text',
      [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(150) } }],
      [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }],
    ],
    [
      'context elements',
      [{ type: 'context', elements: Array(10).fill({ type: 'mrkdwn', text: 'c' }) }],
      [{ type: 'context', elements: Array(11).fill({ type: 'mrkdwn', text: 'c' }) }],
    ],
    [
      'button text',
      [actions(button({ text: { type: 'plain_text', text: 'b'.repeat(75) } }))],
      [actions(button({ text: { type: 'plain_text', text: 'b'.repeat(76) } }))],
    ],
    [
      'action_id',
      [actions(button({ action_id: 'i'.repeat(255) }))],
      [actions(button({ action_id: 'i'.repeat(256) }))],
    ],
    ['value', [actions(button({ value: 'v'.repeat(2000) }))], [actions(button({ value: 'v'.repeat(2001) }))]],
    ['duplicate action_id', [actions(button(), button({ action_id: 'b' }))], [actions(button(), button())]],
    [
      'block_id',
      [{ type: 'divider', block_id: 'x'.repeat(255) }],
      [{ type: 'divider', block_id: 'x'.repeat(256) }],
    ],
    ['unknown block type', [{ type: 'divider' }], [{ type: 'carousel' }]],
  ];
  const confirm = (title: number, text: number) => ({
    title: { type: 'plain_text', text: 't'.repeat(title) },
    text: { type: 'plain_text', text: 'x'.repeat(text) },
    confirm: { type: 'plain_text', text: 'Yes' },
    deny: { type: 'plain_text', text: 'No' },
  });
  cases.push(
    [
      'confirm title',
      [actions(button({ confirm: confirm(100, 1) }))],
      [actions(button({ confirm: confirm(101, 1) }))],
    ],
    [
      'confirm text',
      [actions(button({ confirm: confirm(1, 300) }))],
      [actions(button({ confirm: confirm(1, 301) }))],
    ],
  );
  for (const [name, good, bad] of cases) {
    assert.deepEqual(validateBlocks(good, MESSAGE_MAX_BLOCKS), [], `${name}: inside the limit`);
    const errors = validateBlocks(bad, MESSAGE_MAX_BLOCKS);
    assert.ok(errors.length > 0, `${name}: over the limit`);
    assert.match(errors[0]!, /\[json-pointer:\/blocks/);
  }
  assert.deepEqual(validateBlocks(Array(100).fill({ type: 'divider' }), VIEW_MAX_BLOCKS), []);
  assert.ok(validateBlocks(Array(101).fill({ type: 'divider' }), VIEW_MAX_BLOCKS).length > 0);
});

test('chat.postMessage fails like Slack on bad blocks and long text, and records the call', async () => {
  await assert.rejects(
    client.chat.postMessage({ channel: 'C1', text: 'x', blocks: [section('x'.repeat(3001))] as never }),
    (err: { data?: { error?: string } }) => err.data?.error === 'invalid_blocks',
  );
  await assert.rejects(
    client.chat.postMessage({ channel: 'C1', text: 'x'.repeat(40_001) }),
    (err: { data?: { error?: string } }) => err.data?.error === 'msg_too_long',
  );
  const failed = fake.callsOf('chat.postMessage').filter((c) => !c.ok);
  assert.equal(failed.length, 2);
  assert.match(failed[0]!.errors![0]!, /must be less than 3001 characters/);
});

test('posts, thread replies and updates are visible as outputs; nextOutput waits for the next match', async () => {
  const root = await client.chat.postMessage({ channel: 'C1', text: 'root' });
  const waiting = fake.nextOutput((o) => o.kind === 'post' && o.threadTs === root.ts);
  setTimeout(() => void client.chat.postMessage({ channel: 'C1', thread_ts: root.ts!, text: 'reply' }), 20);
  const reply = await waiting;
  assert.equal(reply.text, 'reply');
  await client.chat.update({ channel: 'C1', ts: root.ts!, text: 'root v2' });
  assert.equal(fake.messages.get(root.ts!)?.text, 'root v2');
  await assert.rejects(client.chat.update({ channel: 'C1', ts: '1.000000', text: 'x' }), /message_not_found/);
  await assert.rejects(
    fake.nextOutput((o) => o.text === 'never', 50),
    /timed out/,
  );
});

test('429 with Retry-After for the next N calls of a method', async () => {
  fake.rateLimit('chat.postEphemeral', 2, 7);
  for (let i = 0; i < 2; i += 1) {
    await assert.rejects(
      client.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'x' }),
      (err: { code?: string; retryAfter?: number }) =>
        err.code === 'slack_webapi_rate_limited_error' && err.retryAfter === 7,
    );
  }
  const ok = await client.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'x' });
  assert.equal(ok.ok, true);
  assert.deepEqual(
    fake.callsOf('chat.postEphemeral').map((c) => c.status),
    [429, 429, 200],
  );
});

test('tokens are checked', async () => {
  const anonymous = new webApi.WebClient(undefined, {
    slackApiUrl: fake.apiUrl,
    retryConfig: { retries: 0 },
  });
  await assert.rejects(anonymous.auth.test(), /not_authed/);
  const wrong = new webApi.WebClient('xoxb-wrong', { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
  await assert.rejects(wrong.auth.test(), /invalid_auth/);
  await assert.rejects(
    client.apps.connections.open({}),
    /invalid_auth/,
    'needs the app token, not the bot token',
  );
  assert.equal((await client.auth.test()).user_id, 'U0BOT');
});

test('users.info and usergroups.users.list', async () => {
  const user = await client.users.info({ user: 'U0ALEX' });
  assert.equal(user.user?.real_name, 'Alex Smith');
  await assert.rejects(client.users.info({ user: 'U0NOBODY' }), /user_not_found/);
  assert.deepEqual((await client.usergroups.users.list({ usergroup: 'S0SRE' })).users, ['U0ALEX', 'U0SAM']);
  await assert.rejects(client.usergroups.users.list({ usergroup: 'S0NONE' }), /no_such_subteam/);
});

test('files.uploadV2 goes through getUploadURLExternal, the upload URL and completeUploadExternal', async () => {
  const res = await client.filesUploadV2({
    channel_id: 'C1',
    thread_ts: '1.000001',
    filename: 'audit.json',
    content: '{"events":[]}',
    initial_comment: 'audit trail',
  });
  assert.equal(res.ok, true);
  const upload = [...fake.uploads.values()].find((u) => u.filename === 'audit.json');
  assert.ok(upload?.completed);
  assert.ok(upload.bytes > 0);
  const out = await fake.nextOutput((o) => o.kind === 'file');
  assert.equal(out.channel, 'C1');
  assert.equal(out.text, 'audit trail');
});

test('response_url accepts five replies and validates blocks', async () => {
  const url = fake.newResponseUrl();
  const post = (body: unknown) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  assert.equal((await post({ text: 'x', blocks: [section('y'.repeat(3001))] })).status, 400);
  for (let i = 0; i < 4; i += 1) assert.equal((await post({ text: `reply ${i}` })).status, 200);
  assert.equal((await post({ text: 'sixth' })).status, 404);
  const first = await fake.nextOutput((o) => o.kind === 'response' && o.text === 'reply 0');
  assert.equal(first.raw.text, 'reply 0');
});

test('views.open: each trigger works once and for about 3 seconds; modal limits are enforced', async () => {
  const view = (extra: Record<string, unknown> = {}) => ({
    type: 'modal',
    title: { type: 'plain_text', text: 'Reject this step?' },
    blocks: [section('sure?')],
    ...extra,
  });
  const trigger = newTriggerId();
  const opened = await client.views.open({ trigger_id: trigger, view: view() as never });
  assert.equal(opened.ok, true);
  assert.equal(fake.modals.size, 1);
  await assert.rejects(
    client.views.open({ trigger_id: trigger, view: view() as never }),
    /exchanged_trigger_id/,
  );
  await assert.rejects(
    client.views.open({ trigger_id: `${Date.now() - 4000}.1.trigger`, view: view() as never }),
    /expired_trigger_id/,
  );
  await assert.rejects(
    client.views.open({
      trigger_id: newTriggerId(),
      view: view({ title: { type: 'plain_text', text: 'A title that is far too long' } }) as never,
    }),
    /invalid_arguments/,
  );
  await assert.rejects(
    client.views.open({
      trigger_id: newTriggerId(),
      view: view({ private_metadata: 'x'.repeat(3001) }) as never,
    }),
    /invalid_arguments/,
  );
});
