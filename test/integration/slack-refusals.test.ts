// Refusals at the Slack edge, over signed HTTP to the real app, runbook and control Redis: nothing a
// person typed comes back unless it names a configured endpoint, migration or user; a refused
// click is answered ephemerally each time but recorded in the audit trail once per person, step
// and reason.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { EVENTS_PATH } from '../../src/slack/app.js';
import { encodeStepRef } from '../../src/slack/blocks/approval.js';
import { type SlackServer, startSlackServer } from '../../src/slack/server.js';
import { createLogger } from '../../src/util/logger.js';
import { FAKE_BOT_TOKEN, type FakeSlack, SlackHttpClient, startFakeSlack } from '../fake-slack/index.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { plannedStep, testPlan } from '../unit/runbook/fixtures.js';

const SIGNING_SECRET = 'refusals-signing-secret-0042';
const CH = 'C0MIGRATE';
const REQUESTER = 'U0REQ';
const STRANGER = 'U0STRANGER';
/** Typed where a name goes: shaped like a name, and may well be a password. */
const TYPED = 'Fz-pw-9731';

let fake: FakeSlack;
let control: RedisServer;
let server: SlackServer;
let slack: SlackHttpClient;

before(async () => {
  control = await startRedis();
  fake = await startFakeSlack();
  const config = parseConfig(
    `
endpoints:
  src: { url: "redis://127.0.0.1:1/0" }
  dst: { url: "redis://127.0.0.1:2/0" }
approvers:
  users: [U0LEAD]
`,
    'refusals.yml',
    {},
  );
  server = await startSlackServer({
    settings: {
      botToken: FAKE_BOT_TOKEN,
      signingSecret: SIGNING_SECRET,
      mode: 'http',
      port: 0,
      slackApiUrl: fake.apiUrl,
    },
    config,
    control: parseEndpointUrl(control.url, 'control'),
    logger: createLogger({ level: 'fatal' }, () => {}),
    prefix: 'rf',
    workers: false,
    events: { blockMs: 200, reclaimIdleMs: 5000, requestWaitMs: 2000 },
    commandDrainMs: 3000,
  });
  slack = new SlackHttpClient(fake, `http://127.0.0.1:${server.slack.port()}${EVENTS_PATH}`, SIGNING_SECRET);
});

after(async () => {
  await server?.stop();
  await fake?.close();
  await control?.stop();
});

/** An awaiting-approval migration made straight on the runbook (no servers to probe). */
async function awaitingMigration() {
  const { service } = server.runtime;
  const plan = testPlan([plannedStep(1, 'bulk_copy', true, { dbs: [0] }), plannedStep(2, 'promote', true)]);
  const m = await service.create({ source: 'src', target: 'dst', plan, requester: REQUESTER });
  const started = await service.start(m.id, REQUESTER);
  assert.ok(started.ok);
  const step = started.migration.steps[0]!;
  assert.equal(step.status, 'awaiting_approval');
  return { id: m.id, step };
}

test('names that are not configured endpoints or migrations are never repeated', async () => {
  const cases: [string, RegExp][] = [
    [`plan ${TYPED} dst`, /The source is not an endpoint in this app's config/],
    [`plan src ${TYPED}`, /The target is not an endpoint/],
    [`plan ${TYPED} ${TYPED}x`, /Neither the source nor the target is an endpoint/],
    [`plan ${TYPED} ${TYPED}`, /same endpoint name/],
    [`plan src dst ${TYPED}=1`, /Unknown option/],
    [TYPED, /Unknown subcommand/],
    [`status ${TYPED}`, /There is no migration with that id/],
    [`verify ${TYPED}`, /There is no migration with that id/],
    [`abort ${TYPED}`, /There is no migration with that id/],
    [`audit ${TYPED}`, /There is no migration with that id/],
  ];
  for (const [text, expected] of cases) {
    const sent = await slack.command(text, REQUESTER, CH);
    assert.equal(sent.status, 200, text);
    const answer = await slack.answer(sent);
    assert.equal(answer.raw.response_type, 'ephemeral', text);
    assert.match(answer.text, expected, text);
    assert.ok(!JSON.stringify(answer.raw).includes(TYPED), `${text}: echoed ${JSON.stringify(answer.raw)}`);
  }
  // Configured names may be repeated: they name something the channel already knows.
  const known = await slack.command('plan src nope-not-there', REQUESTER, CH);
  assert.match(
    JSON.stringify((await slack.answer(known)).raw),
    /Known endpoints: `dst`, `src`/,
    'the configured names are listed',
  );
  assert.equal(await server.runtime.redis.zcard('rf:migrations'), 0, 'nothing was created');
});

test('an edited button naming no migration is refused without repeating its ids', async () => {
  const value = encodeStepRef({ migrationId: TYPED, stepId: '1-bulk-copy', stepHash: 'abcd' });
  const sent = await slack.click({
    actionId: 'mb_step_approve',
    value,
    user: STRANGER,
    channel: CH,
    messageTs: '1.2',
  });
  assert.equal(sent.status, 200);
  const reply = await slack.reply(sent);
  assert.equal(reply.raw.response_type, 'ephemeral');
  assert.match(String(reply.text), /does not belong to a step/);
  assert.ok(!JSON.stringify(reply.raw).includes(TYPED));
});

test('100 refused clicks are each answered ephemerally and recorded once per person and step', async () => {
  const { id, step } = await awaitingMigration();
  const value = encodeStepRef({ migrationId: id, stepId: step.id, stepHash: step.hash });
  const clickAs = (user: string) =>
    slack.click({ actionId: 'mb_step_approve', value, user, channel: CH, messageTs: '1700000000.000200' });
  for (const [user, times, expected] of [
    [REQUESTER, 100, /You requested this migration/],
    [STRANGER, 30, /approver/i],
  ] as const) {
    // Ten at a time, like an impatient person on a slow connection.
    for (let i = 0; i < times; i += 10) {
      const sent = await Promise.all(Array.from({ length: Math.min(10, times - i) }, () => clickAs(user)));
      for (const s of sent) {
        assert.equal(s.status, 200);
        const reply = await slack.reply(s);
        assert.equal(reply.raw.response_type, 'ephemeral');
        assert.match(String(reply.text), expected);
      }
    }
  }
  const refusals = (await server.runtime.service.events(id)).filter((e) => e.type === 'approval_refused');
  assert.deepEqual(
    refusals.map((e) => [e.actor, e.stepId]),
    [
      [REQUESTER, step.id],
      [STRANGER, step.id],
    ],
    '130 clicks, two people: two refusals in the trail',
  );
  const m = await server.runtime.service.get(id);
  assert.equal(m?.steps[0]?.status, 'awaiting_approval', 'no click counted');
});
