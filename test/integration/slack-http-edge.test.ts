// The Slack edge in HTTP mode, tried as an adversary with the signing secret would: timestamps out
// of Slack's 5-minute window either way get 401; every malformed or unknown payload, signed, gets
// a 400 or an ephemeral answer within 3 s, and the app keeps answering afterwards.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createSlackApp, EVENTS_PATH, type SlackApp } from '../../src/slack/app.js';
import type { SlackSettings } from '../../src/slack/settings.js';
import { createLogger } from '../../src/util/logger.js';
import {
  blockActionPayload,
  FAKE_BOT_TOKEN,
  type FakeSlack,
  nowSeconds,
  postSigned,
  responseUrlId,
  slashCommandBody,
  slashCommandPayload,
  startFakeSlack,
  viewSubmissionPayload,
} from '../fake-slack/index.js';
import { recordingHandlers, testConfig } from '../fake-slack/stub-deps.js';

const SIGNING_SECRET = 'http-edge-signing-secret-0001';
let fake: FakeSlack;
let slack: SlackApp;
let url: string;
const handlers = recordingHandlers();
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

before(async () => {
  process.on('unhandledRejection', onUnhandled);
  fake = await startFakeSlack();
  const settings: SlackSettings = {
    botToken: FAKE_BOT_TOKEN,
    signingSecret: SIGNING_SECRET,
    mode: 'http',
    port: 0,
    controlRedisUrl: 'redis://127.0.0.1:1/0',
    controlRedisRedacted: 'redis://127.0.0.1:1/0',
    configPath: 'test-config.yml',
    slackApiUrl: fake.apiUrl,
  };
  slack = createSlackApp(
    settings,
    createLogger({ level: 'fatal' }, () => {}),
    {
      config: testConfig(),
      commands: handlers.commands,
      decisions: handlers.decisions,
    },
  );
  await slack.start();
  url = `http://127.0.0.1:${slack.port()}${EVENTS_PATH}`;
});

after(async () => {
  await slack?.stop();
  await fake?.close();
  process.off('unhandledRejection', onUnhandled);
});

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
const form = (fields: Record<string, string | string[]>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) p.append(k, one);
  return p.toString();
};
const payloadForm = (payload: unknown) => form({ payload: JSON.stringify(payload) });

async function send(body: string, contentType: string, timestampSec?: number) {
  const started = Date.now();
  const res = await postSigned(url, body, {
    signingSecret: SIGNING_SECRET,
    contentType,
    ...(timestampSec !== undefined ? { timestampSec } : {}),
  });
  const text = await res.text();
  return { status: res.status, text, ms: Date.now() - started };
}

/** The app still answers a signed /migrate help with the help. */
async function assertStillAnswers(where: string): Promise<void> {
  const res = await send(slashCommandBody({ text: 'help', responseUrl: fake.newResponseUrl() }), FORM);
  assert.equal(res.status, 200, `${where}: the app stopped answering`);
  assert.match(res.text, /\/migrate plan/, where);
}

test('a signed request dated more than 300 s away, past or future, gets 401 and reaches no listener', async () => {
  const before = handlers.received.length;
  for (const offset of [-10 * 60, -301, 301, 6 * 60, 24 * 3600]) {
    const body = slashCommandBody({ text: 'list', responseUrl: fake.newResponseUrl() });
    const res = await send(body, FORM, nowSeconds() + offset);
    assert.equal(res.status, 401, `timestamp now${offset > 0 ? '+' : ''}${offset} s`);
  }
  assert.equal(handlers.received.length, before);
  // Inside the window (a small skew either way) the request is taken.
  for (const offset of [-60, 60]) {
    const res = await send(slashCommandBody({ text: 'help' }), FORM, nowSeconds() + offset);
    assert.equal(res.status, 200, `timestamp now${offset > 0 ? '+' : ''}${offset} s`);
  }
});

test('a timestamp that is not a number, or no signature at all, gets 401', async () => {
  const body = slashCommandBody({ text: 'help' });
  const cases: Record<string, string>[] = [
    { 'x-slack-request-timestamp': 'soon', 'x-slack-signature': 'v0=00' },
    { 'x-slack-request-timestamp': String(nowSeconds()) },
    {},
  ];
  for (const headers of cases) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': FORM, ...headers }, body });
    assert.equal(res.status, 401, JSON.stringify(headers));
  }
  await assertStillAnswers('after unsigned requests');
});

const goodClick = () => blockActionPayload({ actionId: 'mb_step_approve', value: 'v1|m1|2-start|abcd' });
const goodView = () =>
  viewSubmissionPayload({ callbackId: 'mb_reject_step', values: { reason: { reason: 'no' } } });
const without = (obj: Record<string, unknown>, key: string) => {
  const { [key]: _gone, ...rest } = obj;
  return rest;
};

/** Signed and malformed: each must get a 400 (never a 404 after 3 s, a 500, or a dead process). */
const MALFORMED: { name: string; body: string; contentType: string }[] = [
  { name: 'JSON null body', body: 'null', contentType: JSON_TYPE },
  { name: 'JSON list body', body: '[]', contentType: JSON_TYPE },
  { name: 'JSON string body', body: '"hello"', contentType: JSON_TYPE },
  { name: 'JSON number body', body: '42', contentType: JSON_TYPE },
  { name: 'JSON that does not parse', body: '{"type":', contentType: JSON_TYPE },
  { name: 'empty JSON body', body: '', contentType: JSON_TYPE },
  { name: 'null under another content type', body: 'null', contentType: 'text/plain' },
  { name: 'payload=null', body: 'payload=null', contentType: FORM },
  { name: 'payload= (empty)', body: 'payload=', contentType: FORM },
  {
    name: 'payload that does not parse',
    body: form({ payload: '{"type":"block_actions"' }),
    contentType: FORM,
  },
  { name: 'payload=[]', body: 'payload=%5B%5D', contentType: FORM },
  { name: 'payload=1', body: 'payload=1', contentType: FORM },
  { name: 'payload given twice', body: form({ payload: ['{}', '{}'] }), contentType: FORM },
  { name: 'payload {}', body: payloadForm({}), contentType: FORM },
  { name: 'empty form body', body: '', contentType: FORM },
  { name: 'block_actions without user', body: payloadForm(without(goodClick(), 'user')), contentType: FORM },
  {
    name: 'block_actions with user null',
    body: payloadForm({ ...goodClick(), user: null }),
    contentType: FORM,
  },
  {
    name: 'block_actions with actions []',
    body: payloadForm({ ...goodClick(), actions: [] }),
    contentType: FORM,
  },
  {
    name: 'block_actions with actions null',
    body: payloadForm({ ...goodClick(), actions: null }),
    contentType: FORM,
  },
  {
    name: 'block_actions with actions [null]',
    body: payloadForm({ ...goodClick(), actions: [null] }),
    contentType: FORM,
  },
  {
    name: 'block_actions with an action without action_id',
    body: payloadForm({ ...goodClick(), actions: [{ type: 'button', value: 'x' }] }),
    contentType: FORM,
  },
  {
    name: 'block_actions without response_url',
    body: payloadForm(without(goodClick(), 'response_url')),
    contentType: FORM,
  },
  { name: 'block_actions with team 5', body: payloadForm({ ...goodClick(), team: 5 }), contentType: FORM },
  {
    name: 'block_actions with container "x"',
    body: payloadForm({ ...goodClick(), container: 'x' }),
    contentType: FORM,
  },
  {
    name: 'block_actions with function_data',
    body: payloadForm({ ...goodClick(), function_data: { execution_id: 'Fx1' }, bot_access_token: 'xwfp-1' }),
    contentType: FORM,
  },
  { name: 'view_submission without view', body: payloadForm(without(goodView(), 'view')), contentType: FORM },
  {
    name: 'view_submission with view null',
    body: payloadForm({ ...goodView(), view: null }),
    contentType: FORM,
  },
  {
    name: 'view_submission with state null',
    body: payloadForm({ ...goodView(), view: { ...(goodView().view as object), state: null } }),
    contentType: FORM,
  },
  { name: 'view_submission without user', body: payloadForm(without(goodView(), 'user')), contentType: FORM },
  {
    name: 'shortcut (not handled)',
    body: payloadForm({ type: 'shortcut', callback_id: 'x' }),
    contentType: FORM,
  },
  { name: 'message_action (not handled)', body: payloadForm({ type: 'message_action' }), contentType: FORM },
  {
    name: 'block_suggestion (not handled)',
    body: payloadForm({ type: 'block_suggestion' }),
    contentType: FORM,
  },
  {
    name: 'view_closed (not handled)',
    body: payloadForm({ ...goodView(), type: 'view_closed' }),
    contentType: FORM,
  },
  { name: 'dialog_submission (legacy)', body: payloadForm({ type: 'dialog_submission' }), contentType: FORM },
  {
    name: 'interactive_message (legacy)',
    body: payloadForm({ ...goodClick(), type: 'interactive_message' }),
    contentType: FORM,
  },
  {
    name: 'slash command without user_id',
    body: form(without(slashCommandPayload({ text: 'list' }), 'user_id') as Record<string, string>),
    contentType: FORM,
  },
  {
    name: 'slash command with text twice',
    body: form({ ...slashCommandPayload({ text: 'list' }), text: ['list', 'help'] }),
    contentType: FORM,
  },
  {
    name: 'slash command with an event field',
    body: form({ ...slashCommandPayload({ text: 'list' }), event: 'x' }),
    contentType: FORM,
  },
  { name: 'form with only event=x', body: 'event=x', contentType: FORM },
  {
    name: 'event null',
    body: JSON.stringify({ type: 'event_callback', event: null }),
    contentType: JSON_TYPE,
  },
  { name: 'event "x"', body: JSON.stringify({ type: 'event_callback', event: 'x' }), contentType: JSON_TYPE },
  {
    name: 'event without a type',
    body: JSON.stringify({ type: 'event_callback', event: { user: 'U1' } }),
    contentType: JSON_TYPE,
  },
  {
    name: 'event with user null',
    body: JSON.stringify({ type: 'event_callback', event: { type: 'app_home_opened', user: null } }),
    contentType: JSON_TYPE,
  },
  {
    name: 'event with channel null',
    body: JSON.stringify({ type: 'event_callback', event: { type: 'reaction_added', channel: null } }),
    contentType: JSON_TYPE,
  },
  {
    name: 'event with item "x"',
    body: JSON.stringify({ type: 'event_callback', event: { type: 'reaction_added', item: 'x' } }),
    contentType: JSON_TYPE,
  },
  {
    name: 'event with authorizations [null]',
    body: JSON.stringify({
      type: 'event_callback',
      event: { type: 'app_home_opened' },
      authorizations: [null],
    }),
    contentType: JSON_TYPE,
  },
  { name: 'url_verification without challenge', body: '{"type":"url_verification"}', contentType: JSON_TYPE },
];

test('every malformed signed payload gets a 400 within 3 s, and the app still answers after each', async () => {
  const before = handlers.received.length;
  for (const c of MALFORMED) {
    const res = await send(c.body, c.contentType);
    assert.equal(res.status, 400, `${c.name}: got ${res.status} ${res.text}`);
    assert.ok(res.ms < 3000, `${c.name}: answered after ${res.ms} ms`);
    await assertStillAnswers(c.name);
  }
  assert.equal(handlers.received.length, before, 'no malformed payload reached a handler');
  assert.deepEqual(unhandled, [], 'no unhandled rejection');
});

test('a click on a button this app does not know is answered ephemerally within 3 s', async () => {
  const responseUrl = fake.newResponseUrl();
  const body = payloadForm(
    blockActionPayload({ actionId: 'mb_something_else', value: 'v1|m1|2-start|abcd', responseUrl }),
  );
  const res = await send(body, FORM);
  assert.equal(res.status, 200);
  assert.ok(res.ms < 3000, `answered after ${res.ms} ms`);
  const id = responseUrlId(responseUrl);
  const reply = await fake.nextOutput((o) => o.kind === 'response' && o.responseUrlId === id, 5000);
  assert.equal(reply.raw.response_type, 'ephemeral');
  assert.match(String(reply.text), /not one this app knows/);
  assert.doesNotMatch(JSON.stringify(reply.raw), /mb_something_else/, 'the typed id is not echoed');
  await assertStillAnswers('after an unknown button');
});

test('a slash command other than /migrate gets an ephemeral answer, not a timeout', async () => {
  const res = await send(slashCommandBody({ text: 'list', command: '/deploy' }), FORM);
  assert.equal(res.status, 200);
  assert.ok(res.ms < 3000, `answered after ${res.ms} ms`);
  const body = JSON.parse(res.text) as { response_type: string; text: string };
  assert.equal(body.response_type, 'ephemeral');
  assert.match(body.text, /answers only \/migrate/);
});

test('a dialog this app does not know is answered with an explanation in the dialog', async () => {
  const res = await send(payloadForm(viewSubmissionPayload({ callbackId: 'someone_elses_dialog' })), FORM);
  assert.equal(res.status, 200);
  assert.ok(res.ms < 3000, `answered after ${res.ms} ms`);
  const body = JSON.parse(res.text) as { response_action: string; view: unknown };
  assert.equal(body.response_action, 'update');
  assert.match(JSON.stringify(body.view), /not one this app knows/);
});

test('well-formed requests still work: events, url_verification, ssl_check, a known click', async () => {
  const event = JSON.stringify({
    type: 'event_callback',
    team_id: 'T0FAKE',
    event: { type: 'member_joined_channel', user: 'U1', channel: 'C1' },
  });
  assert.equal((await send(event, JSON_TYPE)).status, 200);
  const challenge = await send('{"type":"url_verification","challenge":"abc123"}', JSON_TYPE);
  assert.equal(challenge.status, 200);
  assert.match(challenge.text, /abc123/);
  const ssl = await fetch(url, { method: 'POST', headers: { 'content-type': FORM }, body: 'ssl_check=1' });
  assert.equal(ssl.status, 200);
  const responseUrl = fake.newResponseUrl();
  const click = await send(
    payloadForm(
      blockActionPayload({ actionId: 'mb_step_approve', value: 'v1|m1|2-start|abcd', responseUrl }),
    ),
    FORM,
  );
  assert.equal(click.status, 200);
  const id = responseUrlId(responseUrl);
  const reply = await fake.nextOutput((o) => o.kind === 'response' && o.responseUrlId === id, 5000);
  assert.equal(reply.text, 'approve recorded');
});
