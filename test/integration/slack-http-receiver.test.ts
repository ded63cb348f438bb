// The real Bolt app in HTTP mode: signed requests in, signature and timestamp checks, and a fuzz of
// command texts through the real receiver. Web API calls and response_url go to the fake Slack.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createSlackApp, EVENTS_PATH, type SlackApp } from '../../src/slack/app.js';
import { encodeStepRef } from '../../src/slack/blocks/approval.js';
import type { SlackSettings } from '../../src/slack/settings.js';
import { createLogger } from '../../src/util/logger.js';
import { randomCommandText, seededRng, UNCONFIGURED_NAME } from '../fake-slack/fuzz.js';
import {
  blockActionsBody,
  FAKE_BOT_TOKEN,
  type FakeSlack,
  nowSeconds,
  postSigned,
  responseUrlId,
  slashCommandBody,
  startFakeSlack,
} from '../fake-slack/index.js';
import { recordingHandlers, testConfig } from '../fake-slack/stub-deps.js';

const SIGNING_SECRET = 'http-receiver-signing-secret-0001';
let fake: FakeSlack;
let slack: SlackApp;
let url: string;
const handlers = recordingHandlers();

before(async () => {
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
  const logger = createLogger({ level: 'warn' }, () => {});
  slack = createSlackApp(settings, logger, {
    config: testConfig(),
    commands: handlers.commands,
    decisions: handlers.decisions,
  });
  await slack.start();
  url = `http://127.0.0.1:${slack.port()}${EVENTS_PATH}`;
});

after(async () => {
  await slack?.stop();
  await fake?.close();
});

const command = (text: string, responseUrl = fake.newResponseUrl()) =>
  slashCommandBody({ text, responseUrl });

test('a signed /migrate help gets 200 with the help as an ephemeral reply', async () => {
  const res = await postSigned(url, command('help'), { signingSecret: SIGNING_SECRET });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { response_type: string; blocks: unknown[] };
  assert.equal(body.response_type, 'ephemeral');
  assert.match(JSON.stringify(body.blocks), /\/migrate plan/);
});

test('a bad signature gets 401 and reaches no listener', async () => {
  const before = handlers.received.length;
  const res = await postSigned(url, command('list'), {
    signingSecret: SIGNING_SECRET,
    signature: `v0=${'0'.repeat(64)}`,
  });
  assert.equal(res.status, 401);
  const wrongSecret = await postSigned(url, command('list'), { signingSecret: 'some-other-secret' });
  assert.equal(wrongSecret.status, 401);
  assert.equal(handlers.received.length, before);
});

test('a correctly signed but 10-minute-old request gets 401 (replay protection)', async () => {
  const res = await postSigned(url, command('help'), {
    signingSecret: SIGNING_SECRET,
    timestampSec: nowSeconds() - 10 * 60,
  });
  assert.equal(res.status, 401);
});

test('a signed button click is acked with 200 and forwarded', async () => {
  const value = encodeStepRef({ migrationId: 'mig-7', stepId: '2-start', stepHash: 'feedbeef' });
  const responseUrl = fake.newResponseUrl();
  const res = await postSigned(
    url,
    blockActionsBody({ actionId: 'mb_step_approve', value, userId: 'U0BUDDY', responseUrl }),
    { signingSecret: SIGNING_SECRET },
  );
  assert.equal(res.status, 200);
  await fake.nextOutput((o) => o.kind === 'response' && o.text === 'approve recorded');
  assert.ok(handlers.received.some((r) => r.kind === 'approve' && r.request.userId === 'U0BUDDY'));
});

test('health check answers without a signature', async () => {
  const res = await fetch(`http://127.0.0.1:${slack.port()}/healthz`);
  assert.equal(res.status, 200);
});

test('300 random command texts: every one is answered with help, an error, or a routed reply', async () => {
  const rng = seededRng(4242);
  const texts = Array.from({ length: 300 }, () => randomCommandText(rng).slice(0, 3000));
  assert.ok(
    texts.filter((t) => t.includes(UNCONFIGURED_NAME)).length > 10,
    'the fuzz types unconfigured names',
  );
  const routedBefore = fake.outputs.filter((o) => o.kind === 'response').length;
  // A few at a time, like a busy channel; the app must answer each one.
  for (let i = 0; i < texts.length; i += 10) {
    await Promise.all(
      texts.slice(i, i + 10).map(async (text, j) => {
        const where = `input ${i + j}: ${JSON.stringify(text.slice(0, 120))}`;
        const responseUrl = fake.newResponseUrl();
        const res = await postSigned(url, command(text, responseUrl), { signingSecret: SIGNING_SECRET });
        assert.equal(res.status, 200, where);
        const raw = await res.text();
        assert.ok(!raw.includes(UNCONFIGURED_NAME), `${where}: the answer repeats what was typed`);
        if (raw) {
          const body = JSON.parse(raw) as { response_type?: string; text?: string };
          assert.equal(body.response_type, 'ephemeral', where);
          assert.ok(body.text && body.text.length > 0, where);
          if (!/^Planning /.test(body.text)) return;
        }
        // Routed: the reply arrives through this command's own response_url.
        const id = responseUrlId(responseUrl);
        const reply = await fake.nextOutput((o) => o.kind === 'response' && o.responseUrlId === id, 5000);
        assert.match(String(reply.text), /handled$/, where);
        assert.equal(reply.raw.response_type, 'ephemeral', where);
      }),
    );
  }
  const routed = fake.outputs.filter((o) => o.kind === 'response').length - routedBefore;
  assert.ok(routed > 10 && routed < 290, `${routed} of 300 routed: the fuzz should exercise both paths`);
});
