// SlackGateway against the fake Slack Web API, through a real WebClient configured like the app's.
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { webApi } from '@slack/bolt';
import { slackClientOptions } from '../../../src/slack/app.js';
import type { SlackMessage } from '../../../src/slack/blocks/message.js';
import { type GatewayOptions, SlackGateway, SlackGatewayError } from '../../../src/slack/gateway.js';
import { createLogger } from '../../../src/util/logger.js';
import { registerSecret } from '../../../src/util/secrets.js';
import { FAKE_BOT_TOKEN, type FakeSlack, startFakeSlack } from '../../fake-slack/index.js';

let fake: FakeSlack;
let client: webApi.WebClient;
const logLines: string[] = [];
const gateways: SlackGateway[] = [];

before(async () => {
  // Random latency on posts: without per-thread ordering, replies would arrive shuffled.
  fake = await startFakeSlack({
    latencyMs: (method) => (method === 'chat.postMessage' ? Math.floor(Math.random() * 25) : 0),
  });
  client = new webApi.WebClient(FAKE_BOT_TOKEN, slackClientOptions({ slackApiUrl: fake.apiUrl }));
});
afterEach(async () => {
  for (const g of gateways.splice(0)) {
    await g.flush();
    g.stop();
  }
});
after(() => fake.close());

function gateway(options: GatewayOptions = {}): SlackGateway {
  const logger = createLogger({ level: 'debug' }, (line) => logLines.push(line));
  const g = new SlackGateway(client, logger, { backoffBaseMs: 10, backoffMaxMs: 50, ...options });
  gateways.push(g);
  return g;
}

const msg = (text: string): SlackMessage => ({
  text,
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
});

test('10 rapid updates of one message: at most 2 chat.update calls, and the last content wins', async () => {
  const g = gateway({ minUpdateIntervalMs: 300 });
  const root = await g.postRoot('C1', msg('v0'));
  const before = fake.callsOf('chat.update').length;
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => g.update(root, msg(`v${i + 1}`))));
  assert.ok(results.every((r) => r.ok));
  const calls = fake.callsOf('chat.update').slice(before);
  assert.ok(calls.length >= 1 && calls.length <= 2, `${calls.length} calls`);
  assert.equal(calls.at(-1)!.params.text, 'v10');
  assert.equal(fake.messages.get(root.ts)?.text, 'v10');
});

test('updates are spaced by at least the interval per message, and none is lost', async () => {
  const g = gateway({ minUpdateIntervalMs: 150 });
  const root = await g.postRoot('C1', msg('start'));
  const before = fake.callsOf('chat.update').length;
  for (let i = 1; i <= 3; i += 1) assert.deepEqual(await g.update(root, msg(`step ${i}`)), { ok: true });
  const calls = fake.callsOf('chat.update').slice(before);
  assert.deepEqual(
    calls.map((c) => c.params.text),
    ['step 1', 'step 2', 'step 3'],
  );
  for (let i = 1; i < calls.length; i += 1) {
    // Timer granularity allows a few ms early; the point is that they are not back to back.
    assert.ok(calls[i]!.at - calls[i - 1]!.at >= 140, `gap ${calls[i]!.at - calls[i - 1]!.at} ms`);
  }
});

test('a 429 on one message delays only that message; others keep flowing', async () => {
  const g = gateway({ minUpdateIntervalMs: 0 });
  const a = await g.postRoot('C1', msg('A0'));
  const b = await g.postRoot('C2', msg('B0'));
  fake.rateLimit('chat.update', 1, 1, (p) => p.ts === a.ts);
  let aDone = false;
  const aResult = g.update(a, msg('A1')).then((r) => {
    aDone = true;
    return r;
  });
  const bResult = await g.update(b, msg('B1'));
  assert.deepEqual(bResult, { ok: true });
  assert.equal(aDone, false, 'A is still waiting out its Retry-After when B is done');
  const more = await Promise.all([g.update(b, msg('B2')), g.postThreadReply(b, msg('in thread'))]);
  assert.equal(aDone, false, 'other messages and methods are not held up by A');
  assert.deepEqual(more[0], { ok: true });
  // Newer content that arrives during the wait is what gets sent after it.
  const aLater = g.update(a, msg('A2'));
  assert.deepEqual(await aResult, { ok: true });
  assert.deepEqual(await aLater, { ok: true });
  assert.equal(fake.messages.get(a.ts)?.text, 'A2');
  const aCalls = fake.callsOf('chat.update').filter((c) => c.params.ts === a.ts);
  assert.equal(aCalls[0]!.status, 429);
  assert.ok(aCalls.length <= 3);
  assert.match(logLines.join(''), /Slack rate limit; waiting/);
});

test('thread replies keep their order even when Slack answers out of order', async () => {
  const g = gateway();
  const root = await g.postRoot('C3', msg('root'));
  const refs = await Promise.all(
    Array.from({ length: 15 }, (_, i) => g.postThreadReply(root, msg(`reply ${i}`))),
  );
  const posted = fake.outputs.filter((o) => o.kind === 'post' && o.threadTs === root.ts).map((o) => o.text);
  assert.deepEqual(
    posted,
    Array.from({ length: 15 }, (_, i) => `reply ${i}`),
  );
  const tss = refs.map((r) => Number(r.ts.split('.')[1]));
  assert.deepEqual(
    tss,
    [...tss].sort((x, y) => x - y),
  );
});

test('transient errors are retried with backoff; final ones are not', async () => {
  const g = gateway({ maxAttempts: 4 });
  const root = await g.postRoot('C4', msg('root'));
  fake.failNext('chat.postMessage', 2, 'internal_error');
  const before = fake.callsOf('chat.postMessage').length;
  await g.postThreadReply(root, msg('after two failures'));
  assert.equal(fake.callsOf('chat.postMessage').length - before, 3);

  // As many failures as attempts: it gives up, with Slack's error code.
  fake.failNext('chat.postMessage', 4, 'internal_error');
  const m = fake.callsOf('chat.postMessage').length;
  await assert.rejects(g.postThreadReply(root, msg('never')), (err: SlackGatewayError) => {
    assert.ok(err instanceof SlackGatewayError);
    assert.equal(err.slackError, 'internal_error');
    return true;
  });
  assert.equal(fake.callsOf('chat.postMessage').length - m, 4);

  fake.failNext('chat.postMessage', 1, 'channel_not_found');
  const n = fake.callsOf('chat.postMessage').length;
  await assert.rejects(g.postRoot('C-missing', msg('x')), /channel_not_found/);
  assert.equal(fake.callsOf('chat.postMessage').length - n, 1, 'not retried');

  const r = await g.update(root, {
    text: 'bad',
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }],
  });
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.error, /invalid_blocks/);
});

test('registered secrets are scrubbed from what is sent and from error logs', async () => {
  registerSecret('gateway-secret-4242');
  const g = gateway();
  const root = await g.postRoot('C5', msg('password is gateway-secret-4242'));
  assert.equal(fake.messages.get(root.ts)?.text, 'password is ***');
  fake.failNext('chat.postEphemeral', 1, 'user_not_in_channel');
  await assert.rejects(g.postEphemeral('C5', 'U1', msg('gateway-secret-4242')));
  const sent = JSON.stringify(fake.calls.map((c) => c.params));
  assert.ok(!sent.includes('gateway-secret-4242'));
  assert.ok(!logLines.join('').includes('gateway-secret-4242'));
});

test('flush sends pending updates at once; stop resolves what is left with an error', async () => {
  const g = gateway({ minUpdateIntervalMs: 60_000 });
  const root = await g.postRoot('C6', msg('root'));
  const pending = g.update(root, msg('flushed'));
  await g.flush();
  assert.deepEqual(await pending, { ok: true });
  assert.equal(fake.messages.get(root.ts)?.text, 'flushed');

  const g2 = gateway({ minUpdateIntervalMs: 60_000 });
  const root2 = await g2.postRoot('C6', msg('root'));
  const dropped = g2.update(root2, msg('dropped'));
  g2.stop();
  const r = await dropped;
  assert.equal(r.ok, false);
  assert.equal(fake.messages.get(root2.ts)?.text, 'root');
  await assert.rejects(g2.postRoot('C6', msg('x')), /stopped/);
});

test('home tabs publish through views.publish, coalesced per user', async () => {
  const g = gateway({ minUpdateIntervalMs: 200 });
  const before = fake.callsOf('views.publish').length;
  const results = await Promise.all(
    Array.from({ length: 5 }, (_, i) =>
      g.publishHome('U7', {
        type: 'home',
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `home ${i}` } }],
      }),
    ),
  );
  assert.ok(results.every((r) => r.ok));
  const calls = fake.callsOf('views.publish').slice(before);
  assert.ok(calls.length <= 2);
  assert.match(JSON.stringify(calls.at(-1)!.params.view), /home 4/);
});

test('content built at send time: a delayed update carries the state of the moment it goes out', async () => {
  const g = gateway({ minUpdateIntervalMs: 300 });
  const root = await g.postRoot('C8', msg('v0'));
  let state = 'early';
  let builds = 0;
  const build = async () => {
    builds += 1;
    return msg(`state ${state}`);
  };
  const pending = g.update(root, build);
  state = 'late'; // changes while the update waits out the interval after the post
  assert.deepEqual(await pending, { ok: true });
  assert.equal(fake.messages.get(root.ts)?.text, 'state late');
  assert.equal(builds, 1);
  // A builder that returns null sends nothing.
  const before = fake.callsOf('chat.update').length;
  assert.deepEqual(await g.update(root, async () => null), { ok: true });
  assert.equal(fake.callsOf('chat.update').length, before);
});
