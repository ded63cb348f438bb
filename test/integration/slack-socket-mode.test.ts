// The real Bolt app in Socket Mode against the fake Slack: apps.connections.open hands out a local
// ws:// URL, envelopes arrive over it, and acks go back over it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createSlackApp, type SlackApp } from '../../src/slack/app.js';
import { encodeStepRef } from '../../src/slack/blocks/approval.js';
import type { SlackSettings } from '../../src/slack/settings.js';
import { createLogger } from '../../src/util/logger.js';
import { FAKE_APP_TOKEN, FAKE_BOT_TOKEN, type FakeSlack, startFakeSlack } from '../fake-slack/index.js';
import { recordingHandlers, TEST_ENDPOINT_PASSWORD, testConfig } from '../fake-slack/stub-deps.js';

let fake: FakeSlack;
let slack: SlackApp;
const logLines: string[] = [];
const handlers = recordingHandlers();

before(async () => {
  fake = await startFakeSlack();
  const settings: SlackSettings = {
    botToken: FAKE_BOT_TOKEN,
    appToken: FAKE_APP_TOKEN,
    mode: 'socket',
    port: 0,
    controlRedisUrl: 'redis://127.0.0.1:1/0',
    controlRedisRedacted: 'redis://127.0.0.1:1/0',
    configPath: 'test-config.yml',
    slackApiUrl: fake.apiUrl,
  };
  const logger = createLogger({ level: 'debug' }, (line) => logLines.push(line));
  slack = createSlackApp(
    settings,
    logger,
    { config: testConfig(), commands: handlers.commands, decisions: handlers.decisions },
    { socketMode: { autoReconnectEnabled: false }, gateway: { minUpdateIntervalMs: 100 } },
  );
  await slack.start();
  await fake.waitForSocket();
});

after(async () => {
  await slack?.stop();
  await fake?.close();
});

test('the app connects through apps.connections.open with the app token', () => {
  const opens = fake.callsOf('apps.connections.open');
  assert.equal(opens.length, 1);
  assert.equal(opens[0]!.ok, true);
  assert.equal(fake.socketConnections, 1);
});

test('/migrate help is acknowledged over the socket, with the help as the reply', async () => {
  const result = await fake.deliverSlashCommand({ text: 'help' });
  assert.equal(result.acked, true, 'the envelope was acknowledged within 3 s');
  assert.equal(result.ackPayload?.response_type, 'ephemeral');
  assert.match(String(result.ackPayload?.text), /\/migrate/);
  const blocks = JSON.stringify(result.ackPayload?.blocks);
  assert.match(blocks, /\/migrate plan <source> <target>/);
});

test('/migrate endpoints lists names and redacted URLs, never the password', async () => {
  const result = await fake.deliverSlashCommand({ text: 'endpoints' });
  assert.equal(result.acked, true);
  const shown = JSON.stringify(result.ackPayload);
  assert.match(shown, /old-cache/);
  assert.match(shown, /new-cache/);
  assert.match(shown, /10\.0\.0\.5:6379/);
  assert.ok(!shown.includes(TEST_ENDPOINT_PASSWORD));
});

test('a routed subcommand is acked at once and answered through response_url', async () => {
  const result = await fake.deliverSlashCommand({ text: 'status mig-42', userId: 'U0ALICE' });
  assert.equal(result.acked, true);
  const response = await fake.nextOutput((o) => o.kind === 'response' && o.text === 'status handled');
  assert.equal(response.raw.response_type, 'ephemeral');
  const call = handlers.received.find((r) => r.kind === 'status');
  assert.deepEqual(call?.command, { kind: 'status', id: 'mig-42' });
  assert.equal(call?.request.userId, 'U0ALICE');
});

test('a pasted connection string is refused in the ack without being repeated', async () => {
  const secret = 'hunter2-socket-secret';
  const result = await fake.deliverSlashCommand({ text: `plan redis://default:${secret}@db:6379 new-cache` });
  assert.equal(result.acked, true);
  const shown = JSON.stringify(result.ackPayload);
  assert.match(shown, /connection string/);
  assert.ok(!shown.includes(secret));
  assert.ok(!logLines.join('').includes(secret), 'the command text is not logged');
});

test('an Approve click is acked and forwarded with the clicker and the step reference', async () => {
  const value = encodeStepRef({ migrationId: 'mig-42', stepId: '7-promote', stepHash: 'abc123def456' });
  const result = await fake.deliverBlockAction({ actionId: 'mb_step_approve', value, userId: 'U0BUDDY' });
  assert.equal(result.acked, true);
  await fake.nextOutput((o) => o.kind === 'response' && o.text === 'approve recorded');
  const call = handlers.received.find((r) => r.kind === 'approve');
  assert.equal(call?.request.userId, 'U0BUDDY');
  assert.deepEqual(
    { ...call?.request, channelId: undefined, messageTs: undefined },
    {
      migrationId: 'mig-42',
      stepId: '7-promote',
      stepHash: 'abc123def456',
      userId: 'U0BUDDY',
      channelId: undefined,
      messageTs: undefined,
    },
  );
});

test('opening the App Home publishes help and endpoints through views.publish', async () => {
  const result = await fake.deliverEvent({
    type: 'app_home_opened',
    user: 'U0ALEX',
    channel: 'D0ALEX',
    tab: 'home',
  });
  assert.equal(result.acked, true);
  const home = await fake.nextOutput((o) => o.kind === 'home' && o.user === 'U0ALEX');
  const shown = JSON.stringify(home.blocks);
  assert.match(shown, /\/migrate plan/);
  assert.match(shown, /old-cache/);
  assert.ok(!shown.includes(TEST_ENDPOINT_PASSWORD));
});

test('no token appears in the logs', () => {
  const logs = logLines.join('');
  assert.ok(logs.length > 0);
  assert.ok(!logs.includes(FAKE_BOT_TOKEN));
  assert.ok(!logs.includes(FAKE_APP_TOKEN));
});

test('malformed Socket Mode messages are acked or ignored, never crash the app, which answers after each', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const id = () => `env-${Math.random().toString(36).slice(2)}`;
    const envelope = (type: string, payload: unknown, envelopeId = id()) => ({
      envelopeId,
      text: JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: true }),
    });
    // Without an envelope id there is nothing to ack: these must simply be survived.
    for (const text of ['null', '[]', '42', '"x"', '{', '{}', '{"type":"events_api"}']) {
      await fake.deliverRaw(text);
    }
    const cases = [
      envelope('events_api', null),
      envelope('events_api', {}),
      envelope('events_api', { type: 'event_callback', event: null }),
      envelope('events_api', { type: 'event_callback', event: { type: 'app_home_opened', user: null } }),
      envelope('slash_commands', null),
      envelope('slash_commands', { command: '/migrate', text: ['a', 'b'] }),
      envelope('interactive', null),
      envelope('interactive', { type: 'block_actions', actions: [null] }),
      envelope('interactive', { type: 'view_submission', user: { id: 'U1' }, view: null }),
      envelope('interactive', { type: 'shortcut' }),
      envelope('something_new', { any: 'thing' }),
    ];
    for (const c of cases) {
      const result = await fake.deliverRaw(c.text, c.envelopeId);
      assert.equal(result?.acked, true, `${c.text}: acked within 3 s`);
      if (c.text.includes('"slash_commands"')) {
        assert.equal(result?.ackPayload?.response_type, 'ephemeral', c.text);
        assert.match(String(result?.ackPayload?.text), /could not be read/);
      }
      const help = await fake.deliverSlashCommand({ text: 'help' });
      assert.equal(help.acked, true, `${c.text}: the app still answers`);
    }
    assert.deepEqual(unhandled, []);
    assert.equal(fake.socketConnections, 1, 'still connected');
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
