// migration-buddy's Slack app end to end: the real Bolt app over its HTTP receiver with signed
// requests, the fake Slack Web API at its HTTP edge, real redis-servers (control, source, target)
// and real step workers. Nothing between the Slack edge and Redis is stubbed.
//
//  1. replication, every gate: /migrate plan -> card -> buddy approves (self-approval, a stranger
//     and a double click refused or absorbed) -> sync -> verification in the thread -> make
//     writable (while Slack rate-limits the card) -> "Done" on the repoint -> drain check with
//     live progress on the card -> promote -> done; the thread holds every event.
//  2. dump-restore copy with progress on the card; a step no worker can run fails with what to do
//     next and a retry button; verify and audit on request (upload, then the fallback); abort.
//  3. requesters and approver groups (usergroups.users.list), Reject with a reason through the
//     dialog (a pasted secret refused inside it), App Home.
//  4. fuzz of malformed commands on a second app: an ephemeral error each, nothing created.
//  5. a scan of every call the fake Slack received, every response and every log line for secrets.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { hookStepExecutor } from '../../src/hooks/executors.js';
import type { JobTiming } from '../../src/jobs/timing.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import type { Migration } from '../../src/runbook/model.js';
import type { ExecutorRegistry, StepExecutor } from '../../src/runbook/step-executor.js';
import { EVENTS_PATH } from '../../src/slack/app.js';
import { SlackMessageStore } from '../../src/slack/migration-thread/message-store.js';
import { type SlackServer, startSlackServer } from '../../src/slack/server.js';
import { createLogger } from '../../src/util/logger.js';
import {
  randomCommandText,
  randomSecret,
  seededRng,
  textWithSecret,
  UNCONFIGURED_NAME,
} from '../fake-slack/fuzz.js';
import {
  FAKE_BOT_TOKEN,
  type FakeSlack,
  SlackHttpClient,
  type SlackOutput,
  startFakeSlack,
} from '../fake-slack/index.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { copyStepExecutors, registerStrategy } from '../harness/step-executors.js';

const SIGNING_SECRET = 'e2e-signing-secret-7f3a9c';
const CONTROL_PW = 'ctl-pw-e2e-4411';
const SOURCE_PW = 'src-pw-e2e-8823';
const TARGET_PW = 'dst-pw-e2e-1907';
const PASTED_PW = 'pasted-pw-e2e-5150';
const CH = 'C0MIGRATE';
const REQUESTER = 'U0REQ';
const BUDDY = 'U0BUDDY';
const STRANGER = 'U0STRANGER';
const DEV = 'U0DEV'; // requester through the S0DEVS user group
const SRE = 'U0SRE'; // approver through the S0SRE user group

const FAST: Partial<JobTiming> = {
  lockDurationMs: 3000,
  stalledIntervalMs: 3000,
  backoffMs: 50,
  sweepIntervalMs: 60_000,
  progressIntervalMs: 50,
  shutdownTimeoutMs: 5000,
};
const REPLICATION = {
  pollIntervalMs: 100,
  linkTimeoutMs: 10_000,
  lagTimeoutMs: 5000,
  drainPollMs: 100,
  drainTimeoutMs: 20_000,
  verify: { recheckDelayMs: 50 },
};

let fake: FakeSlack;
let control: RedisServer;
let source: RedisServer;
let target: RedisServer;
let server: SlackServer;
/** Accepts connections and never says a word: a probe of it can only time out. */
let silent: Server;
const silentSockets: Socket[] = [];
let slack: SlackHttpClient;
const logLines: string[] = [];
// The fuzz's unconfigured name too: typed where a name goes, it must never come back.
const pastedSecrets: string[] = [PASTED_PW, UNCONFIGURED_NAME];
let copyGate = { ...deferred(), used: true };

function deferred() {
  let release!: () => void;
  const promise = new Promise<void>((r) => {
    release = r;
  });
  return { promise, release, used: false };
}

/**
 * Stops a copy after its first real progress report (the copy saves its checkpoint and ends as
 * stopped), waits for the test, then runs it again from that checkpoint: a copy paused half way,
 * so its progress can be watched on the card.
 */
function pauseAfterFirstProgress(executor: StepExecutor): StepExecutor {
  return {
    async run(ctx) {
      const gate = copyGate;
      if (gate.used) return executor.run(ctx);
      gate.used = true;
      const stop = new AbortController();
      let checkpoint = ctx.checkpoint;
      try {
        return await executor.run({
          ...ctx,
          signal: AbortSignal.any([ctx.signal, stop.signal]),
          saveCheckpoint: async (cp) => {
            await ctx.saveCheckpoint(cp);
            checkpoint = cp;
          },
          reportProgress: (p) => {
            ctx.reportProgress(p);
            if ((p.keysDone ?? 0) > 0 && (p.keysDone ?? 0) < (p.keysTotal ?? 0)) stop.abort();
          },
        });
      } catch (err) {
        if (!stop.signal.aborted || ctx.signal.aborted) throw err;
      }
      await Promise.race([gate.promise, new Promise((r) => ctx.signal.addEventListener('abort', r))]);
      return executor.run({ ...ctx, checkpoint });
    },
    ...(executor.abortState ? { abortState: executor.abortState } : {}),
  };
}

/** Every executor of this build, with test timings; no live_sync executor on purpose (scenario 2). */
function registry(): ExecutorRegistry {
  const r = copyStepExecutors().register('hook', hookStepExecutor({ hooks: undefined }));
  registerStrategy(r, 'replication', REPLICATION);
  r.register('bulk_copy', pauseAfterFirstProgress(r.get('bulk_copy')!));
  return r;
}

function configYaml(): string {
  return `
endpoints:
  src:
    url: redis://127.0.0.1:${source.port}
    password: ${SOURCE_PW}
    description: the old box
  dst:
    url: redis://127.0.0.1:${target.port}
    password: ${TARGET_PW}
  silent:
    url: redis://127.0.0.1:${(silent.address() as { port: number }).port}/0
slack:
  channels: [${CH}]
  requesters:
    users: [${REQUESTER}]
    groups: [S0DEVS]
approvers:
  users: [U0LEAD, ${BUDDY}]
  groups: [S0SRE]
`;
}

before(async () => {
  [control, source, target] = await Promise.all([
    startRedis({ password: CONTROL_PW }),
    startRedis({ password: SOURCE_PW, configLines: ['repl-diskless-sync-delay 0'] }),
    startRedis({ password: TARGET_PW }),
  ]);
  const s0 = await source.client(0);
  const p = s0.pipeline();
  for (let i = 0; i < 400; i++) p.set(`user:${i}`, `v${i}`);
  for (let i = 0; i < 40; i++) p.set(`session:${i}`, `s${i}`, 'PX', 600_000);
  p.hset('profile', { a: '1', b: '2' });
  await p.exec();
  // db 3 is what the dump-restore scenario copies; large enough that a copy stopped after its first
  // batches (8 in flight at a time) is visibly partial.
  const s3 = await source.client(3);
  const p3 = s3.pipeline();
  for (let i = 0; i < 20_000; i++) p3.set(`item:${i}`, `x${i}`);
  await p3.exec();
  // Connections left open would count as apps still on the source in the drain check.
  s0.disconnect();
  s3.disconnect();

  silent = createServer((socket) => silentSockets.push(socket));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));

  fake = await startFakeSlack({
    usergroups: { S0DEVS: [DEV, 'U0OTHERDEV'], S0SRE: [SRE] },
  });
  const config = parseConfig(configYaml(), 'e2e.yml', {});
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
    logger: createLogger({ level: 'debug' }, (line) => logLines.push(line)),
    prefix: 'e2e',
    timing: FAST,
    workers: { concurrency: 2, registry: registry() },
    app: { gateway: { minUpdateIntervalMs: 250, backoffBaseMs: 20, backoffMaxMs: 100 } },
    events: { blockMs: 200, reclaimIdleMs: 5000, requestWaitMs: 2000 },
    probeTimeoutMs: 3000,
    commandDrainMs: 3000,
  });
  slack = new SlackHttpClient(fake, `http://127.0.0.1:${server.slack.port()}${EVENTS_PATH}`, SIGNING_SECRET);
});

after(async () => {
  for (const socket of silentSockets) socket.destroy();
  silent?.close();
  await server?.stop();
  await fake?.close();
  await Promise.all([control?.stop(), source?.stop(), target?.stop()]);
});

// ---- helpers -------------------------------------------------------------------------------------

const json = (v: unknown) => JSON.stringify(v ?? null);

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function migration(id: string): Promise<Migration> {
  return server.runtime.service.get(id).then((m) => {
    assert.ok(m, `migration ${id} exists`);
    return m;
  });
}

function stepOf(m: Migration, kind: string) {
  const s = m.steps.find((x) => x.kind === kind);
  assert.ok(s, `step ${kind}`);
  return s;
}

/** Plans through /migrate and returns the migration id and its root card. */
async function plan(text: string, user: string) {
  const sent = await slack.command(text, user, CH);
  assert.equal(sent.status, 200);
  assert.match(String(sent.body?.text), /^Planning /, 'acked at once with a note');
  assert.equal(sent.body?.response_type, 'ephemeral');
  const card = await fake.nextOutput(
    (o) => o.kind === 'post' && o.channel === CH && !o.threadTs && /^Migration \S+ /.test(String(o.text)),
    30_000,
  );
  const id = /^Migration (\S+) /.exec(String(card.text))![1]!;
  const reply = await slack.reply(sent, 30_000);
  assert.equal(reply.raw.response_type, 'ephemeral');
  assert.match(String(reply.text), new RegExp(`Migration ${id} planned`));
  return { id, root: { channel: CH, ts: card.ts! }, card };
}

/** The request message (with buttons) posted in the thread for a step. */
function requestMessage(root: { ts: string }, id: string, stepId: string, timeoutMs = 30_000) {
  return fake.waitFor(
    () =>
      fake.outputs.find(
        (o) => o.kind === 'post' && o.threadTs === root.ts && json(o.blocks).includes(`"v1|${id}|${stepId}|`),
      ),
    timeoutMs,
    `the request message for ${stepId}`,
  );
}

function button(message: SlackOutput, actionId: string): string {
  const actions = (
    message.blocks as { type: string; elements?: { action_id: string; value: string }[] }[]
  ).find((b) => b.type === 'actions');
  const el = actions?.elements?.find((e) => e.action_id === actionId);
  assert.ok(el, `button ${actionId}`);
  return el.value;
}

function click(actionId: string, message: SlackOutput, user: string, root: { ts: string }) {
  return slack.click({
    actionId,
    value: button(message, actionId),
    user,
    channel: CH,
    messageTs: message.ts!,
    threadTs: root.ts,
  });
}

async function waitStep(id: string, kind: string, statuses: string[], ms = 30_000) {
  return until(
    `${kind} to be ${statuses.join('|')}`,
    async () => {
      const m = await migration(id);
      const s = stepOf(m, kind);
      if (s.status === 'failed' && !statuses.includes('failed')) {
        throw new Error(`${kind} failed: ${s.error}`);
      }
      return statuses.includes(s.status) ? m : undefined;
    },
    ms,
  );
}

/** Waits until every event of the migration has its reply in the thread; returns the replies. */
async function threadHoldsEveryEvent(id: string, root: { ts: string }) {
  const store = new SlackMessageStore(server.runtime.redis, server.runtime.prefix);
  return until(`every event of ${id} in the thread`, async () => {
    const events = await server.runtime.service.events(id);
    const replies: string[] = [];
    for (const e of events) {
      const ts = await store.posted(id, e.id!);
      if (!ts) return undefined;
      const msg = fake.messages.get(ts);
      assert.ok(msg, `reply ${ts} exists`);
      assert.equal(msg.threadTs, root.ts, `${e.type} is in the thread`);
      replies.push(ts);
    }
    return { events, replies };
  });
}

function cardNow(root: { ts: string }) {
  return json(fake.messages.get(root.ts)?.blocks);
}

// ---- 1. replication through every gate -----------------------------------------------------------

describe('replication, every gate, from Slack', () => {
  let id: string;
  let root: { channel: string; ts: string };

  test('plan posts one status card with endpoints, strategy, steps, requester and buddy', async () => {
    ({ id, root } = await plan(`plan src dst strategy=replication buddy=<@${BUDDY}|bob>`, REQUESTER));
    const card = cardNow(root);
    assert.match(card, /src → dst/);
    assert.match(card, /Why replication:\* asked for with strategy=replication/);
    assert.match(card, new RegExp(`<@${REQUESTER}>`));
    assert.match(card, new RegExp(`<@${BUDDY}>`));
    assert.match(card, /Start replication/);
    assert.match(card, /Redis 7\.\d+\.\d+ · 20,441 keys · redis:\/\/127\.0\.0\.1:\d+/, 'name, version, URL');
    assert.match(card, /Approvals, results and verification are posted in the thread/);
    const m = await migration(id);
    assert.deepEqual(m.meta, { slackChannel: CH, slackTs: root.ts }, 'the card is stored with the migration');
  });

  test('the start approval mentions the buddy; the requester and a stranger are refused', async () => {
    const m = await waitStep(id, 'start_replication', ['awaiting_approval']);
    const step = stepOf(m, 'start_replication');
    const request = await requestMessage(root, id, step.id);
    assert.match(json(request.blocks), new RegExp(`<@${BUDDY}>, please review`));

    const self = await click('mb_step_approve', request, REQUESTER, root);
    assert.equal(self.status, 200);
    const selfReply = await slack.reply(self);
    assert.equal(selfReply.raw.response_type, 'ephemeral');
    assert.match(String(selfReply.text), /You requested this migration/);

    const stranger = await click('mb_step_approve', request, STRANGER, root);
    assert.match(String((await slack.reply(stranger)).text), /not one of the approvers of this migration/i);

    const after = await migration(id);
    assert.equal(stepOf(after, 'start_replication').status, 'awaiting_approval', 'no transition');
    assert.equal(after.version, m.version, 'nothing was written to the migration');
  });

  test('a double click by the buddy makes one transition; the buttons become who approved', async () => {
    const m = await migration(id);
    const step = stepOf(m, 'start_replication');
    const request = await requestMessage(root, id, step.id);
    const clicks = await Promise.all([
      click('mb_step_approve', request, BUDDY, root),
      click('mb_step_approve', request, BUDDY, root),
    ]);
    assert.deepEqual(
      clicks.map((c) => c.status),
      [200, 200],
    );
    await waitStep(id, 'start_replication', ['approved', 'running', 'succeeded']);
    const approvals = (await server.runtime.service.events(id)).filter(
      (e) => e.type === 'step_approved' && e.stepId === step.id,
    );
    assert.equal(approvals.length, 1, 'exactly one approval transition');
    // The second click is told why it did not count.
    const refused = await Promise.race(clicks.map((c) => slack.reply(c)));
    assert.match(String(refused.text), /already approved/);
    const decided = await fake.waitFor(() => {
      const msg = fake.messages.get(request.ts!);
      return msg && !json(msg.blocks).includes('"actions"') ? msg : undefined;
    });
    assert.match(json(decided.blocks), new RegExp(`Approved by <@${BUDDY}>`));
  });

  test('sync, then the verification lands in the thread', async () => {
    await waitStep(id, 'verify', ['succeeded'], 40_000);
    const verification = await fake.waitFor(
      () =>
        fake.outputs.find(
          (o) => o.kind === 'post' && o.threadTs === root.ts && json(o.blocks).includes(':mag:'),
        ),
      10_000,
      'the verification reply',
    );
    assert.match(json(verification.blocks), /db0 401\/401/, 'persistent keys per db, source and target');
  });

  test('make writable is approved while Slack rate-limits the card; other messages keep flowing', async () => {
    const m = await waitStep(id, 'make_writable', ['awaiting_approval']);
    const step = stepOf(m, 'make_writable');
    const request = await requestMessage(root, id, step.id);
    const limitedAt = Date.now();
    fake.rateLimit('chat.update', 1, 2, (p) => p.ts === root.ts);
    await click('mb_step_approve', request, BUDDY, root);
    // The card's next update gets a 429 with Retry-After: 2...
    const limited = await fake.waitFor(
      () => fake.calls.find((c) => c.status === 429 && c.params.ts === root.ts && c.at >= limitedAt),
      10_000,
      'a rate-limited card update',
    );
    // ...meanwhile a refused click (the stranger again) is recorded and posted in the thread...
    await click('mb_step_approve', request, STRANGER, root);
    const refusedReply = await fake.waitFor(
      () =>
        fake.calls.find(
          (c) =>
            c.method === 'chat.postMessage' &&
            c.ok &&
            c.at > limited.at &&
            c.params.thread_ts === root.ts &&
            json(c.params.blocks).includes(`${STRANGER}`),
        ),
      10_000,
      'the thread reply of the refused click',
    );
    // ...and the card is sent again only once Retry-After has passed.
    const retried = await fake.waitFor(
      () =>
        fake.calls.find(
          (c) => c.method === 'chat.update' && c.ok && c.params.ts === root.ts && c.at > limited.at,
        ),
      10_000,
      'the card update after Retry-After',
    );
    assert.ok(retried.at - limited.at >= 1900, 'Retry-After was honoured');
    assert.ok(refusedReply.at < retried.at, 'the thread was not held up by the card');
    await waitStep(id, 'make_writable', ['succeeded']);
  });

  test('"Done" confirms the repoint; the drain check shows live progress on the card', async () => {
    const m = await waitStep(id, 'repoint', ['awaiting_approval']);
    const step = stepOf(m, 'repoint');
    const request = await requestMessage(root, id, step.id);
    assert.match(json(request.blocks), /"text":"Done"/);
    // An app still on the source holds the drain check until it leaves.
    const app = await source.client(0, { connectionName: 'orders-api' });
    await app.ping();
    await click('mb_step_confirm', request, BUDDY, root);
    const withProgress = await fake.waitFor(
      () =>
        fake.outputs.find(
          (o) =>
            o.kind === 'update' &&
            o.ts === root.ts &&
            /Check nobody is left[^"]*orders-api/.test(json(o.blocks)),
        ),
      20_000,
      'a card update with the drain check progress',
    );
    assert.match(json(withProgress.blocks), /:arrows_counterclockwise: \*Check nobody is left/);
    const decided = fake.messages.get(request.ts!);
    assert.match(json(decided?.blocks), new RegExp(`Confirmed by <@${BUDDY}>`));
    app.disconnect();
    await waitStep(id, 'drain_check', ['succeeded']);
  });

  test('promote is approved; the migration is done and the thread holds every event', async () => {
    const m = await waitStep(id, 'promote', ['awaiting_approval']);
    const request = await requestMessage(root, id, stepOf(m, 'promote').id);
    await click('mb_step_approve', request, BUDDY, root);
    await until('the migration to succeed', async () => (await migration(id)).status === 'succeeded', 30_000);
    const { events } = await threadHoldsEveryEvent(id, root);
    const types = events.map((e) => e.type);
    for (const t of [
      'migration_created',
      'migration_started',
      'approval_requested',
      'step_approved',
      'verification',
      'confirmation_requested',
      'step_confirmed',
      'migration_succeeded',
    ]) {
      assert.ok(types.includes(t as never), t);
    }
    assert.ok(types.includes('approval_refused'), 'refused clicks are in the audit trail too');
    const final = await fake.waitFor(() =>
      /:white_check_mark: Done/.test(cardNow(root)) ? cardNow(root) : undefined,
    );
    assert.doesNotMatch(final, /:arrows_counterclockwise: \*/, 'no progress line once done');
    const tgt = await target.client(0);
    assert.equal(await tgt.get('user:7'), 'v7');
    assert.match((await tgt.info('replication')) as string, /role:master/);
  });
});

// ---- 1b. dump-restore with live sync to the end ----------------------------------------------------

describe('dump-restore with live sync, every gate, from Slack', () => {
  // Fresh servers and an app with this build's own executors (the live phase included); the
  // helpers above talk to whichever app is `server`/`slack`, so this block swaps them in.
  let liveSource: RedisServer;
  let liveTarget: RedisServer;
  let live: SlackServer;
  let saved: { server: SlackServer; slack: SlackHttpClient };
  before(async () => {
    [liveSource, liveTarget] = await Promise.all([
      startRedis({ password: SOURCE_PW, configLines: ['notify-keyspace-events KEA'] }),
      startRedis({ password: TARGET_PW }),
    ]);
    const db = await liveSource.client(0);
    const p = db.pipeline();
    for (let i = 0; i < 1500; i++) p.set(`order:${i}`, `o${i}`);
    p.set('ttl-key', 'x', 'EX', 3600);
    await p.exec();
    db.disconnect();
    const yaml = `
endpoints:
  live-src:
    url: redis://127.0.0.1:${liveSource.port}
    password: ${SOURCE_PW}
  live-dst:
    url: redis://127.0.0.1:${liveTarget.port}
    password: ${TARGET_PW}
slack:
  channels: [${CH}]
`;
    live = await startSlackServer({
      settings: {
        botToken: FAKE_BOT_TOKEN,
        signingSecret: SIGNING_SECRET,
        mode: 'http',
        port: 0,
        slackApiUrl: fake.apiUrl,
      },
      config: parseConfig(yaml, 'live.yml', {}),
      control: parseEndpointUrl(control.url, 'control'),
      logger: createLogger({ level: 'debug' }, (line) => logLines.push(line)),
      prefix: 'live',
      timing: FAST,
      app: { gateway: { minUpdateIntervalMs: 250 } },
      events: { blockMs: 200 },
    });
    saved = { server, slack };
    server = live;
    slack = new SlackHttpClient(fake, `http://127.0.0.1:${live.slack.port()}${EVENTS_PATH}`, SIGNING_SECRET);
  });
  after(async () => {
    saved.slack.responses.push(...slack.responses);
    server = saved.server;
    slack = saved.slack;
    await live?.stop();
    await Promise.all([liveSource?.stop(), liveTarget?.stop()]);
  });

  test('copy, follow changes, pause writes, repoint, resume: done, with every event in the thread', async (t) => {
    const { id, root } = await plan(
      `plan live-src live-dst strategy=dump-restore buddy=<@${BUDDY}>`,
      REQUESTER,
    );
    const kinds = (await migration(id)).steps.map((s) => s.kind);
    assert.deepEqual(kinds, [
      'preflight',
      'bulk_copy',
      'live_sync',
      'verify',
      'write_pause',
      'repoint',
      'resume_writes',
      'post_verify',
    ]);
    let m = await waitStep(id, 'bulk_copy', ['awaiting_approval']);
    await click('mb_step_approve', await requestMessage(root, id, stepOf(m, 'bulk_copy').id), BUDDY, root);
    await waitStep(id, 'bulk_copy', ['succeeded']);
    // A write made after the copy reaches the target through the live sync.
    const writer = await liveSource.client(0);
    await writer.set('written-during-sync', 'yes');
    writer.disconnect();

    m = await waitStep(id, 'write_pause', ['awaiting_approval'], 60_000);
    const pause = await requestMessage(root, id, stepOf(m, 'write_pause').id);
    assert.match(json(pause.blocks), /This step cannot be undone/);
    await click('mb_step_approve', pause, BUDDY, root);
    m = await waitStep(id, 'repoint', ['awaiting_approval'], 60_000);
    await click('mb_step_confirm', await requestMessage(root, id, stepOf(m, 'repoint').id), BUDDY, root);
    await until(
      'the migration to succeed',
      async () => {
        const cur = await migration(id);
        if (['failed', 'rejected', 'aborted'].includes(cur.status)) throw new Error(`ended ${cur.status}`);
        return cur.status === 'succeeded';
      },
      60_000,
    );
    const { events } = await threadHoldsEveryEvent(id, root);
    assert.ok(events.some((e) => e.type === 'verification'));
    const dst = await liveTarget.client(0);
    assert.equal(await dst.get('written-during-sync'), 'yes');
    assert.equal(await dst.dbsize(), 1502);
    const resumed = stepOf(await migration(id), 'resume_writes').summary ?? '';
    assert.match(resumed, /resumed after a \d+ ms pause/);
    t.diagnostic(`resume_writes: ${resumed} (the repoint was confirmed by a click right away)`);
    await fake.waitFor(
      () => (/:white_check_mark: Done/.test(cardNow(root)) ? true : undefined),
      10_000,
      'a done card',
    );
  });
});

// ---- 2. dump-restore copy, a failing step, verify and audit on request ----------------------------

describe('dump-restore: copy progress, a step that fails, verify and audit from Slack', () => {
  let id: string;
  let root: { channel: string; ts: string };

  test('the copy shows keys copied / total, rate and ETA on the card while it runs', async () => {
    copyGate = deferred();
    ({ id, root } = await plan(
      `plan src dst strategy=dump-restore db=3 flush-target buddy=<@${BUDDY}|bob>`,
      REQUESTER,
    ));
    const m = await waitStep(id, 'bulk_copy', ['awaiting_approval']);
    const request = await requestMessage(root, id, stepOf(m, 'bulk_copy').id);
    assert.match(
      json(request.blocks),
      /This step cannot be undone/,
      'flush-target makes the copy irreversible',
    );
    await click('mb_step_approve', request, BUDDY, root);
    const progress = await fake.waitFor(
      () =>
        fake.outputs.find(
          (o) =>
            o.kind === 'update' &&
            o.ts === root.ts &&
            /Copy the keys[^"]*\/ 20,000 keys \(/.test(json(o.blocks)),
        ),
      20_000,
      'a card update with the copy progress',
    );
    assert.match(json(progress.blocks), /keys\/s/);
    assert.match(json(progress.blocks), /:arrows_counterclockwise: Running/);
  });

  test('verify on request while the copy is held: differences, posted in the thread too', async () => {
    const sent = await slack.command(`verify ${id}`, BUDDY, CH);
    const answer = await slack.answer(sent, 30_000);
    assert.match(answer.text, /Verification of .*verification failed: \d+ missing/);
    await fake.waitFor(
      () =>
        fake.outputs.find(
          (o) =>
            o.kind === 'post' &&
            o.threadTs === root.ts &&
            json(o.blocks).includes(`<@${BUDDY}> asked for a verification`),
        ),
      10_000,
      'the on-request verification in the thread',
    );
    copyGate.release();
  });

  test('a step no worker here can run fails with what to do next and a retry button', async () => {
    await waitStep(id, 'bulk_copy', ['succeeded'], 30_000);
    const m = await waitStep(id, 'live_sync', ['failed'], 30_000);
    const failure = await fake.waitFor(
      () =>
        fake.outputs.find(
          (o) => o.kind === 'post' && o.threadTs === root.ts && json(o.blocks).includes('mb_step_retry'),
        ),
      10_000,
      'the failure reply with a retry button',
    );
    assert.match(json(failure.blocks), /\*Next:\* fix the cause/);
    assert.match(json(failure.blocks), new RegExp(`/migrate abort ${id}`));
    // A stranger may not retry; the buddy may (it fails again: still no executor here).
    const stranger = await click('mb_step_retry', failure, STRANGER, root);
    assert.match(String((await slack.reply(stranger)).text), /only the requester, the buddy or an approver/i);
    const attempts = stepOf(m, 'live_sync').attempt;
    await click('mb_step_retry', failure, BUDDY, root);
    await until('the retry to run and fail again', async () => {
      const s = stepOf(await migration(id), 'live_sync');
      return s.attempt === attempts + 1 && s.status === 'failed';
    });
    await fake.waitFor(() => (/:x: Failed/.test(cardNow(root)) ? true : undefined), 10_000, 'a failed card');
  });

  test('audit uploads the JSON lines into the thread, and posts them there when the upload fails', async () => {
    const sent = await slack.command(`audit ${id}`, REQUESTER, CH);
    assert.match((await slack.answer(sent)).text, /Uploaded the audit trail/);
    const file = await fake.nextOutput((o) => o.kind === 'file' && o.threadTs === root.ts);
    const upload = [...fake.uploads.values()].find((u) => u.filename === `migration-${id}-audit.jsonl`);
    assert.ok(upload?.completed);
    const lines = String(upload.content).trim().split('\n');
    const events = await server.runtime.service.events(id);
    assert.ok(
      lines.length > 10 && events.length >= lines.length,
      `${lines.length} lines, ${events.length} events`,
    );
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).id),
      events.slice(0, lines.length).map((e) => e.id),
      'one line per event, in order',
    );
    assert.equal(JSON.parse(lines[0]!).type, 'migration_created');
    assert.match(String(file.text), /Audit trail of migration/);

    fake.failNext('files.getUploadURLExternal', 1, 'internal_error');
    const again = await slack.command(`audit ${id}`, REQUESTER, CH);
    assert.match((await slack.answer(again)).text, /Posted the audit trail/);
    const posted = fake.outputs.filter(
      (o) => o.kind === 'post' && o.threadTs === root.ts && /^Audit trail of /.test(String(o.text)),
    );
    assert.ok(posted.length >= 1);
    const first = (posted[0]!.blocks as { text: { text: string } }[])[0]!.text.text;
    assert.match(first, /^```\{"migrationId":"[^"]+","type":"migration_created"/);
  });
});

// ---- 3. requesters, approver groups, reject with a reason, App Home ------------------------------

describe('who may plan and approve, Reject with a reason, App Home', () => {
  let id: string;
  let root: { channel: string; ts: string };

  test('someone outside slack.requesters may not plan; a member of a requester group may', async () => {
    const refused = await slack.command('plan src dst strategy=dump-restore db=3 replace', STRANGER, CH);
    const answer = await slack.answer(refused, 15_000);
    assert.match(answer.text, /not one of the people who may plan migrations/);
    assert.equal(answer.raw.response_type, 'ephemeral');
    assert.match(json(answer.raw.blocks), /<@U0REQ>, <!subteam\^S0DEVS>/);
    ({ id, root } = await plan('plan src dst strategy=dump-restore db=3 replace', DEV));
    assert.equal((await migration(id)).requester, DEV);
  });

  test('without a buddy the request mentions the approvers; a group member may reject', async () => {
    const m = await waitStep(id, 'bulk_copy', ['awaiting_approval']);
    const request = await requestMessage(root, id, stepOf(m, 'bulk_copy').id);
    assert.match(json(request.blocks), /<!subteam\^S0SRE>/);
    assert.match(json(request.blocks), /<@U0LEAD>/);

    // Reject opens a dialog at once (confirmation + optional reason).
    const clickedAt = fake.outputs.length;
    const rejectClick = await click('mb_step_reject', request, SRE, root);
    const modal = await fake.nextOutput((o) => o.kind === 'modal' && fake.outputs.indexOf(o) >= clickedAt);
    assert.equal(modal.raw.trigger_id, rejectClick.triggerId);
    const view = modal.raw.view as { private_metadata: string; callback_id: string };

    // A reason holding a pasted secret is refused inside the dialog and never stored.
    const leaky = await slack.submitView({
      callbackId: view.callback_id,
      privateMetadata: view.private_metadata,
      values: { mb_reject_reason: { reason: `the password=${PASTED_PW} is wrong` } },
      userId: SRE,
    });
    assert.equal(leaky.status, 200);
    assert.equal(leaky.body?.response_action, 'errors');
    assert.doesNotMatch(json(leaky.body), new RegExp(PASTED_PW));
    assert.equal(stepOf(await migration(id), 'bulk_copy').status, 'awaiting_approval');

    // The requester cannot reject either (and is told so in the channel, ephemerally).
    const own = await slack.submitView({
      callbackId: view.callback_id,
      privateMetadata: view.private_metadata,
      values: { mb_reject_reason: { reason: 'changed my mind' } },
      userId: DEV,
    });
    assert.equal(own.status, 200);
    const ephemeral = await fake.nextOutput((o) => o.kind === 'ephemeral' && o.user === DEV);
    assert.match(String(ephemeral.text), /You requested this migration/);
    assert.equal(ephemeral.threadTs, root.ts);

    const ok = await slack.submitView({
      callbackId: view.callback_id,
      privateMetadata: view.private_metadata,
      values: { mb_reject_reason: { reason: 'wait for the nightly batch to finish' } },
      userId: SRE,
    });
    assert.equal(ok.status, 200);
    await until('the migration to be rejected', async () => (await migration(id)).status === 'rejected');
    const decided = await fake.waitFor(() => {
      const msg = fake.messages.get(request.ts!);
      return msg && /Rejected by/.test(json(msg.blocks)) ? msg : undefined;
    });
    assert.match(json(decided.blocks), new RegExp(`Rejected by <@${SRE}>`));
    assert.match(json(decided.blocks), /wait for the nightly batch to finish/);
    await threadHoldsEveryEvent(id, root);
  });

  test('App Home lists the migrations with their state', async () => {
    const sent = await slack.event({ type: 'app_home_opened', user: BUDDY, channel: 'D0HOME', tab: 'home' });
    assert.equal(sent.status, 200);
    const home = await fake.nextOutput((o) => o.kind === 'home' && o.user === BUDDY);
    const shown = json(home.blocks);
    assert.match(shown, /Recently ended/);
    assert.match(shown, new RegExp(id));
    assert.match(shown, /:no_entry: Rejected/);
    assert.match(shown, /:white_check_mark: Done/);
  });
});

// ---- 4. abort, a stale button, status and list ----------------------------------------------------

describe('two serve processes, abort and stale buttons', () => {
  // A second app on the same control Redis (no workers): clicks land on it, events are shared out
  // between the two by the consumer group, and each is posted once.
  let replica: SlackServer;
  let slack2: SlackHttpClient;
  before(async () => {
    replica = await startSlackServer({
      settings: {
        botToken: FAKE_BOT_TOKEN,
        signingSecret: SIGNING_SECRET,
        mode: 'http',
        port: 0,
        slackApiUrl: fake.apiUrl,
      },
      config: parseConfig(configYaml(), 'e2e.yml', {}),
      control: parseEndpointUrl(control.url, 'control'),
      logger: createLogger({ level: 'debug' }, (line) => logLines.push(line)),
      prefix: 'e2e',
      timing: FAST,
      workers: false,
      app: { gateway: { minUpdateIntervalMs: 250 } },
      events: { blockMs: 200, reclaimIdleMs: 5000, requestWaitMs: 2000, consumer: 'replica-2' },
    });
    slack2 = new SlackHttpClient(
      fake,
      `http://127.0.0.1:${replica.slack.port()}${EVENTS_PATH}`,
      SIGNING_SECRET,
    );
  });
  after(async () => {
    slack.responses.push(...(slack2?.responses ?? []));
    await replica?.stop();
  });

  test('a click on an old version of a step is refused; abort closes the open request', async () => {
    const { id, root } = await plan(
      `plan src dst strategy=dump-restore db=3 replace buddy=<@${BUDDY}>`,
      REQUESTER,
    );
    const m = await waitStep(id, 'bulk_copy', ['awaiting_approval']);
    const step = stepOf(m, 'bulk_copy');
    const request = await requestMessage(root, id, step.id);
    const stale = await slack2.click({
      actionId: 'mb_step_approve',
      value: `v1|${id}|${step.id}|${'0'.repeat(64)}`,
      user: BUDDY,
      channel: CH,
      messageTs: request.ts!,
      threadTs: root.ts,
    });
    assert.match(String((await slack2.reply(stale)).text), /changed since this request was made/);
    assert.equal(stepOf(await migration(id), 'bulk_copy').status, 'awaiting_approval');

    const status = await slack2.command('status', BUDDY, CH);
    assert.match(
      (await slack2.answer(status)).text,
      new RegExp(`Migration ${id} src → dst: awaiting_approval`),
    );
    const list = await slack2.command('list', BUDDY, CH);
    assert.match(json((await slack2.answer(list)).raw.blocks), new RegExp(id));
    const unknown = await slack2.command('abort nope-42', BUDDY, CH);
    const refused = await slack2.answer(unknown);
    assert.ok(!json(refused.raw).includes('nope-42'), 'the typed id is not repeated');
    assert.match(
      json(refused.raw.blocks),
      /there is no migration with that id[\s\S]*Usage:[\s\S]*\/migrate abort &lt;id&gt;/i,
    );

    const aborted = await slack2.command(`abort ${id}`, REQUESTER, CH);
    assert.match((await slack2.answer(aborted)).text, /aborted/);
    const closed = await fake.waitFor(() => {
      const msg = fake.messages.get(request.ts!);
      return msg && /Aborted by/.test(json(msg.blocks)) ? msg : undefined;
    });
    assert.doesNotMatch(json(closed.blocks), /"actions"/);
    const late = await slack2.click({
      actionId: 'mb_step_approve',
      value: button(request, 'mb_step_approve'),
      user: BUDDY,
      channel: CH,
      messageTs: request.ts!,
      threadTs: root.ts,
    });
    assert.match(String((await slack2.reply(late)).text), /aborted/);
    const { events } = await threadHoldsEveryEvent(id, root);
    // Each event once: the thread has exactly as many posts as the migration has events.
    await new Promise((r) => setTimeout(r, 500));
    const posts = fake.outputs.filter((o) => o.kind === 'post' && o.threadTs === root.ts);
    assert.equal(posts.length, events.length, 'no event was posted twice');
    const consumers = (await server.runtime.redis.call(
      'XINFO',
      'CONSUMERS',
      'e2e:events',
      'slack',
    )) as unknown[][];
    assert.ok(
      consumers.some((c) => c.includes('replica-2')),
      'the second process reads from the same group',
    );
  });
});

describe('servers that do not answer', () => {
  test('plan is acked at once; the answer comes when the probe gives up, and nothing is created', async () => {
    const before = await server.runtime.service.list({ limit: 100 });
    const sent = await slack.command('plan silent dst', REQUESTER, CH);
    assert.equal(sent.status, 200);
    assert.match(String(sent.body?.text), /^Planning silent → dst/, 'the ack did not wait for the probe');
    const help = await slack.command('help', REQUESTER, CH);
    assert.match(String(help.body?.text), /migration-buddy/, 'other commands are answered meanwhile');
    const reply = await slack.reply(sent, 20_000);
    assert.equal(reply.raw.response_type, 'ephemeral');
    assert.match(String(reply.text), /Could not probe silent: silent did not answer within 3 s/);
    assert.equal((await server.runtime.service.list({ limit: 100 })).length, before.length);
  });
});

// ---- 5. fuzz on a second app: every bad input answered, nothing created ---------------------------

describe('malformed /migrate texts', () => {
  test('300 random texts and pasted secrets: an ephemeral answer each, no crash, no migration', async () => {
    const config = parseConfig(
      `endpoints:\n  src:\n    url: redis://127.0.0.1:${source.port}\n    password: ${SOURCE_PW}\n` +
        `  src2:\n    url: redis://127.0.0.1:${target.port}\n    password: ${TARGET_PW}\n`,
      'fuzz.yml',
      {},
    );
    const fuzz = await startSlackServer({
      settings: {
        botToken: FAKE_BOT_TOKEN,
        signingSecret: SIGNING_SECRET,
        mode: 'http',
        port: 0,
        slackApiUrl: fake.apiUrl,
      },
      config,
      control: parseEndpointUrl(control.url, 'control'),
      logger: createLogger({ level: 'debug' }, (line) => logLines.push(line)),
      prefix: 'fz',
      timing: FAST,
      workers: false,
      events: { blockMs: 200 },
    });
    const client = new SlackHttpClient(
      fake,
      `http://127.0.0.1:${fuzz.slack.port()}${EVENTS_PATH}`,
      SIGNING_SECRET,
    );
    try {
      const rng = seededRng(9090);
      const texts = Array.from({ length: 300 }, (_, i) => {
        if (i % 10 !== 0) return randomCommandText(rng).slice(0, 3000);
        const secret = randomSecret(rng);
        pastedSecrets.push(secret);
        return textWithSecret(rng, secret);
      });
      const postsBefore = fake.outputs.filter((o) => o.kind === 'post').length;
      let errors = 0;
      for (let i = 0; i < texts.length; i += 10) {
        await Promise.all(
          texts.slice(i, i + 10).map(async (text, j) => {
            const where = `input ${i + j}: ${JSON.stringify(text.slice(0, 80))}`;
            const sent = await client.command(text, 'U0FUZZ', 'C0FUZZ');
            assert.equal(sent.status, 200, where);
            const answer = await client.answer(sent, 15_000);
            assert.equal(answer.raw.response_type, 'ephemeral', where);
            assert.ok(answer.text.length > 0, where);
            const shown = json(answer.raw.blocks);
            if (shown.includes(':warning:')) {
              // An error says what was wrong and shows the right form or what to do instead.
              assert.ok(/Usage:|"context"/.test(shown), `${where}: ${shown.slice(0, 300)}`);
              errors += 1;
            }
          }),
        );
      }
      assert.ok(errors > 150, `${errors} of 300 were errors`);
      assert.equal(fake.outputs.filter((o) => o.kind === 'post').length, postsBefore, 'nothing posted');
      assert.equal(await server.runtime.redis.zcard('fz:migrations'), 0, 'no migration was created');
      assert.deepEqual(await server.runtime.redis.keys('fz:mig:*'), []);
      const nobody = await client.command('plan src src2', 'U0FUZZ', 'C0FUZZ');
      assert.match((await client.answer(nobody)).text, /no buddy is named and no approvers are configured/);
      const help = await client.command('help', 'U0FUZZ', 'C0FUZZ');
      assert.match(String(help.body?.text), /migration-buddy/, 'still answering');
    } finally {
      slack.responses.push(...client.responses);
      await fuzz.stop();
    }
  });
});

// ---- 6. nothing secret, anywhere ------------------------------------------------------------------

test('no password, token or pasted secret in any Slack call, response, upload or log line', async () => {
  const pasted = await slack.command(`plan redis://admin:${PASTED_PW}@10.1.2.3:6379 dst`, REQUESTER, CH);
  const answer = await slack.answer(pasted);
  assert.match(answer.text, /looked like a connection string or a password/);
  const secrets = [CONTROL_PW, SOURCE_PW, TARGET_PW, SIGNING_SECRET, FAKE_BOT_TOKEN, ...pastedSecrets];
  const haystacks: [string, string][] = [
    // The bot token does go to Slack where Slack asks for it (Bolt's auth.test sends it as a
    // parameter); everything else the app sent is scanned for it.
    ['fake Slack calls', json(fake.calls.map(({ params: { token: _token, ...rest } }) => rest))],
    ['fake Slack outputs', json(fake.outputs.map((o) => o.raw))],
    ['uploads', json([...fake.uploads.values()])],
    ['HTTP responses', slack.responses.join('\n')],
    ['log lines', logLines.join('')],
  ];
  assert.ok(logLines.length > 100, 'the logs were captured');
  assert.ok(pastedSecrets.length > 20, 'the fuzz pasted secrets');
  for (const [where, text] of haystacks) {
    for (const secret of secrets) {
      const at = text.indexOf(secret);
      assert.ok(at === -1, `${where} contain a secret: …${text.slice(Math.max(0, at - 200), at + 40)}`);
    }
  }
});
