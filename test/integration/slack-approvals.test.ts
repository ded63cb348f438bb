// The two-person rule and the server locks as an adversarial user meets them in Slack: signed
// slash commands and button clicks over the real HTTP receiver, the fake Slack Web API, real
// redis-servers (control, source, target) and real step workers. Each refusal is answered to the
// person only, says why, and changes nothing.
//
// Config: approvers UBOB0001 and UCAROL01, a quorum of 2 for the copy ("Copy the keys").
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import type { JobTiming } from '../../src/jobs/timing.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import type { Migration } from '../../src/runbook/model.js';
import { stepHash } from '../../src/runbook/step-hash.js';
import { EVENTS_PATH } from '../../src/slack/app.js';
import { type SlackServer, startSlackServer } from '../../src/slack/server.js';
import { createLogger } from '../../src/util/logger.js';
import {
  FAKE_BOT_TOKEN,
  type FakeSlack,
  SlackHttpClient,
  type SlackOutput,
  startFakeSlack,
} from '../fake-slack/index.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { copyStepExecutors } from '../harness/step-executors.js';

const SIGNING_SECRET = 'approvals-signing-secret-31ad';
const PREFIX = 'sa';
const CH = 'C0MIGRATE';
const REQUESTER = 'U0REQ';
const BOB = 'UBOB0001';
const CAROL = 'UCAROL01';
const OUTSIDER = 'U0000123';

const FAST: Partial<JobTiming> = {
  lockDurationMs: 3000,
  stalledIntervalMs: 3000,
  backoffMs: 50,
  sweepIntervalMs: 60_000,
  progressIntervalMs: 50,
  shutdownTimeoutMs: 5000,
};

let fake: FakeSlack;
let control: RedisServer;
let source: RedisServer;
let target: RedisServer;
let server: SlackServer;
let slack: SlackHttpClient;

before(async () => {
  [control, source, target] = await Promise.all([startRedis(), startRedis(), startRedis()]);
  const s = await source.client(0);
  const p = s.pipeline();
  for (let i = 0; i < 50; i++) p.set(`k:${i}`, `v${i}`);
  await p.exec();
  s.disconnect();
  fake = await startFakeSlack();
  const config = parseConfig(
    `
endpoints:
  src: { url: "redis://127.0.0.1:${source.port}" }
  dst: { url: "redis://127.0.0.1:${target.port}" }
slack:
  channels: [${CH}]
approvers:
  users: [${BOB}, ${CAROL}]
approvals:
  quorum: { bulk_copy: 2 }
`,
    'approvals.yml',
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
    logger: createLogger({ level: 'warn' }, () => {}),
    prefix: PREFIX,
    timing: FAST,
    workers: { concurrency: 1, registry: copyStepExecutors() },
    app: { gateway: { minUpdateIntervalMs: 100, backoffBaseMs: 20, backoffMaxMs: 100 } },
    events: { blockMs: 200, reclaimIdleMs: 5000, requestWaitMs: 2000 },
    probeTimeoutMs: 5000,
    commandDrainMs: 3000,
  });
  slack = new SlackHttpClient(fake, `http://127.0.0.1:${server.slack.port()}${EVENTS_PATH}`, SIGNING_SECRET);
});

after(async () => {
  await server?.stop();
  await fake?.close();
  await Promise.all([control?.stop(), source?.stop(), target?.stop()]);
});

// ---- helpers -------------------------------------------------------------------------------------

const json = (v: unknown) => JSON.stringify(v ?? null);
const service = () => server.runtime.service;

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function migration(id: string): Promise<Migration> {
  const m = await service().get(id);
  assert.ok(m, `migration ${id} exists`);
  return m;
}

function copyStep(m: Migration) {
  const s = m.steps.find((x) => x.kind === 'bulk_copy');
  assert.ok(s, 'a copy step');
  return s;
}

/** Sends a command and returns the answer meant for the sender (ephemeral), whatever the path. */
async function ask(text: string, user: string) {
  const sent = await slack.command(text, user, CH);
  assert.equal(sent.status, 200);
  const answer = await slack.answer(sent, 30_000);
  assert.equal(answer.raw.response_type, 'ephemeral', 'answered to the sender only');
  return { text: answer.text, all: json(answer.raw) };
}

function rootCards(): SlackOutput[] {
  return fake.outputs.filter(
    (o) => o.kind === 'post' && o.channel === CH && !o.threadTs && /^Migration \S+ /.test(String(o.text)),
  );
}

async function click(value: string, user: string, request: SlackOutput, root: { ts: string }) {
  const sent = await slack.click({
    actionId: 'mb_step_approve',
    value,
    user,
    channel: CH,
    messageTs: request.ts!,
    threadTs: root.ts,
  });
  assert.equal(sent.status, 200);
  const reply = await slack.reply(sent);
  assert.equal(reply.raw.response_type, 'ephemeral');
  return { text: String(reply.text), all: json(reply.raw) };
}

// ---- the scenario --------------------------------------------------------------------------------

describe('two-person control over signed HTTP', () => {
  let id: string;
  let root: { channel: string; ts: string };
  let request: SlackOutput;
  let value: string;

  test('a buddy who is not an approver is refused at plan time, with the reason; nothing is created', async () => {
    const refused = await ask(`plan src dst strategy=dump-restore buddy=<@${OUTSIDER}|eve>`, REQUESTER);
    assert.match(
      refused.text,
      new RegExp(`the buddy ${OUTSIDER} is not one of the configured approvers`, 'i'),
    );
    assert.match(refused.all, /Name one of the approvers as your buddy/);
    assert.deepEqual(await service().list(), [], 'no migration');
    assert.equal(rootCards().length, 0, 'no card was posted');
  });

  test('the plan card shows who may approve each gate; the buddy alone does not meet a quorum of 2', async () => {
    const sent = await slack.command(`plan src dst strategy=dump-restore buddy=<@${BOB}|bob>`, REQUESTER, CH);
    const planned = await slack.reply(sent, 30_000);
    id = /Migration (\S+) planned/.exec(String(planned.text))?.[1] ?? '';
    assert.ok(id, `planned: ${planned.text}`);
    const card = rootCards().find((o) => String(o.text).startsWith(`Migration ${id} `));
    assert.ok(card);
    root = { channel: CH, ts: card.ts! };
    assert.match(
      json(card.blocks),
      /Copy the keys[^"]*needs 2 approvals, by the buddy \(UBOB0001\) and another approver/,
    );
    assert.match(json(card.blocks), /Approvers: users UBOB0001, UCAROL01/);

    const m = await until('the copy to await approval', async () => {
      const cur = await migration(id);
      return copyStep(cur).status === 'awaiting_approval' ? cur : undefined;
    });
    const step = copyStep(m);
    assert.equal(step.quorum, 2);
    request = await fake.waitFor(
      () =>
        fake.outputs.find(
          (o) =>
            o.kind === 'post' && o.threadTs === root.ts && json(o.blocks).includes(`"v1|${id}|${step.id}|`),
        ),
      30_000,
      'the request for the copy',
    );
    value = `v1|${id}|${step.id}|${step.hash}`;
    assert.ok(json(request.blocks).includes(value));

    const byBuddy = await click(value, BOB, request, root);
    assert.match(byBuddy.text, /approval recorded; 1 more needed for "Copy the keys"/i);
    const again = await click(value, BOB, request, root);
    assert.match(again.text, /you already approved "Copy the keys"; it needs 1 more approval/i);
    const byRequester = await click(value, REQUESTER, request, root);
    assert.match(byRequester.text, /You requested this migration/);

    const after = copyStep(await migration(id));
    assert.equal(after.status, 'awaiting_approval', 'the buddy alone did not approve it');
    assert.deepEqual(
      after.approvals.map((a) => a.userId),
      [BOB],
    );
  });

  test('a tampered button value changes nothing and is answered with the reason', async () => {
    const before = await migration(id);
    const step = copyStep(before);
    const otherStep = before.steps.find((s) => s.needsApproval && s.id !== step.id)!;
    const tampered: [string, string, RegExp][] = [
      [
        'the hash of the same step of another migration',
        `v1|${id}|${step.id}|${stepHash('m0ther000001', step)}`,
        new RegExp(
          `not for the current version of "Copy the keys" in migration ${id}.*nothing was recorded`,
          'i',
        ),
      ],
      [
        'this step’s hash on another step',
        `v1|${id}|${otherStep.id}|${step.hash}`,
        /not up for approval yet/,
      ],
      [
        'another migration id',
        `v1|mnothere0001|${step.id}|${step.hash}`,
        /does not belong to a step of any migration here/,
      ],
      ['an unknown step', `v1|${id}|9-nope|${step.hash}`, /does not belong to a step of any migration here/],
    ];
    for (const [name, v, reason] of tampered) {
      const res = await click(v, CAROL, request, root);
      assert.match(res.text, reason, name);
    }
    const now = await migration(id);
    assert.equal(now.version, before.version, 'nothing was written to the migration');
    assert.deepEqual(
      copyStep(now).approvals.map((a) => a.userId),
      [BOB],
    );
  });

  test('a second migration on a locked server, or the reverse one, is refused with the id and the thread', async () => {
    for (const text of [
      `plan src dst strategy=dump-restore replace buddy=<@${CAROL}>`,
      `plan dst src strategy=dump-restore replace buddy=<@${CAROL}>`,
    ]) {
      const refused = await ask(text, REQUESTER);
      assert.match(refused.text, new RegExp(`is in use by migration ${id} \\(src -> dst`, 'i'), text);
      assert.ok(refused.all.includes(`<#${CH}>`), `the holder's thread is named: ${refused.all}`);
    }
    assert.equal((await service().list()).length, 1, 'nothing else was created');
  });

  test('a stale lock is refused with how to clear it; only an approver clears it with /migrate unlock', async () => {
    const aborted = await ask(`abort ${id}`, REQUESTER);
    assert.match(aborted.text, /aborted/i);
    // A lock left behind by a migration whose document is gone.
    const redis = await control.client();
    await redis.hset(`${PREFIX}:lock:127.0.0.1:${target.port}`, '*', 'mgone0000001');
    redis.disconnect();

    const refused = await ask(`plan src dst strategy=dump-restore replace buddy=<@${CAROL}>`, REQUESTER);
    assert.match(refused.text, /locked by migration mgone0000001, which no longer exists/i);
    assert.match(refused.text, /\/migrate unlock <endpoint>/);

    const notApprover = await ask('unlock dst', REQUESTER);
    assert.match(notApprover.text, /only a configured approver can clear a server lock/i);
    const cleared = await ask('unlock dst', CAROL);
    assert.match(
      cleared.all,
      new RegExp(`dst \\(127\\.0\\.0\\.1:${target.port}\\): Cleared 127\\.0\\.0\\.1:${target.port}/\\*`, 'i'),
    );
    const events = await service().events('mgone0000001');
    assert.equal(events.at(-1)?.type, 'lock_cleared');
    assert.equal(events.at(-1)?.actor, CAROL);
    const nothing = await ask('unlock dst', CAROL);
    assert.match(nothing.text, /no migration holds a lock on/i);
  });
});
