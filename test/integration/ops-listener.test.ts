// The ops listener of `worker` and `serve`, as people run them (the real CLI in a child process):
// /healthz, /readyz, /metrics after a real dump-restore migration run by the worker, the read-only
// queue dashboard behind its token; and `serve` starting against an unreachable Slack, a refused
// token and a control Redis that comes up late: retried, one line per attempt, never a stack,
// /readyz 503 with the reason until it is up.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openRuntime } from '../../src/jobs/runtime.js';
import { withDefaults } from '../../src/planner/defaults.js';
import { probeEndpoint } from '../../src/probe/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { TERMINAL_MIGRATION_STATUSES } from '../../src/runbook/model.js';
import { planAndCreate } from '../../src/usecases/plan-migration.js';
import { createLogger } from '../../src/util/logger.js';
import { sleep } from '../../src/util/sleep.js';
import { FAKE_APP_TOKEN, FAKE_BOT_TOKEN, type FakeSlack, startFakeSlack } from '../fake-slack/index.js';
import { type CliChild, spawnCli } from '../harness/cli-child.js';
import { compareServers } from '../harness/compare.js';
import { freePort, type RedisServer, startRedis } from '../harness/redis-server.js';

const KEYS = 500;
const DASHBOARD_TOKEN = 'ops-dashboard-token-4711-abcdef';
const SIGNING_SECRET = 'ops-signing-secret-8080';

let control: RedisServer;
let source: RedisServer;
let target: RedisServer;
let fake: FakeSlack;
let dir: string;
let config: string;

before(async () => {
  [control, source, target] = await Promise.all([startRedis(), startRedis(), startRedis()]);
  fake = await startFakeSlack();
  const db = await source.client();
  const pipe = db.pipeline();
  for (let i = 0; i < KEYS; i++) pipe.set(`k:${i}`, `value-${i}`);
  await pipe.exec();
  dir = mkdtempSync(join(tmpdir(), 'mb-ops-'));
  config = join(dir, 'mb.yml');
  writeFileSync(
    config,
    `endpoints:\n  src:\n    url: ${source.url}\n  dst:\n    url: ${target.url}\ncontrol:\n  url: ${control.url}\n`,
  );
});
after(async () => {
  await fake?.close();
  await Promise.all([control?.stop(), source?.stop(), target?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

async function get(port: number, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') ?? '' };
}

/** Sum of a metric's samples whose labels include `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) {
      sum += Number(m[3]);
      found = true;
    }
  }
  assert.ok(found, `no ${name} ${JSON.stringify(labels)} in the scrape`);
  return sum;
}

function assertNoStack(out: string): void {
  assert.doesNotMatch(out, /^\s+at .+\(.*:\d+:\d+\)$/m, 'a stack trace was printed');
  assert.doesNotMatch(out, /Unhandled|uncaught/i);
}

describe('worker ops listener', () => {
  test('metrics count the steps and keys of a migration it ran; health, readiness, dashboard', async () => {
    const worker = spawnCli(
      ['worker', '--config', config, '--ops-port', '0'],
      {
        OPS_DASHBOARD_TOKEN: DASHBOARD_TOKEN,
        LOG_LEVEL: 'warn',
      },
      dir,
    );
    const rt = await openRuntime({
      control: parseEndpointUrl(control.url, 'control'),
      logger: createLogger({ level: 'silent' }),
    });
    try {
      const port = Number((await worker.waitFor(/ops listener on port (\d+)/))[1]);
      assert.equal((await get(port, '/healthz')).status, 200);
      assert.deepEqual(await get(port, '/readyz').then((r) => [r.status, r.text.trim()]), [200, 'ready']);

      const src = parseEndpointUrl(source.url, 'src');
      const dst = parseEndpointUrl(target.url, 'dst');
      const { migration } = await planAndCreate(
        rt.service,
        { source: src, target: dst, options: withDefaults({ strategy: 'dump-restore' }), hooks: undefined },
        (e, o) => probeEndpoint(e, o),
        { requester: 'UREQ', buddy: 'UBUDDY' },
      );
      assert.ok(migration);
      assert.ok((await rt.service.start(migration.id, 'UREQ')).ok);
      // The buddy approves and confirms each gate as it opens; the worker child runs every step.
      const deadline = Date.now() + 90_000;
      let m = await rt.service.get(migration.id);
      while (m && !TERMINAL_MIGRATION_STATUSES.has(m.status) && Date.now() < deadline) {
        for (const s of m.steps.filter((x) => x.status === 'awaiting_approval')) {
          if (s.gate === 'confirmation') await rt.service.confirm(m.id, s.id, 'UBUDDY', s.hash);
          else await rt.service.approve(m.id, s.id, 'UBUDDY', s.hash);
        }
        await sleep(100);
        m = await rt.service.get(migration.id);
      }
      assert.equal(m?.status, 'succeeded', worker.output());
      assert.deepEqual(await compareServers(source, target), []);

      const scrape = await get(port, '/metrics');
      assert.equal(scrape.status, 200);
      assert.match(scrape.type, /^text\/plain; version=0\.0\.4/);
      const text = scrape.text;
      assert.ok(
        sample(text, 'migration_buddy_step_runs_total', { kind: 'bulk_copy', outcome: 'succeeded' }) >= 1,
      );
      assert.ok(
        sample(text, 'migration_buddy_step_runs_total', { strategy: 'dump-restore', outcome: 'succeeded' }) >=
          5,
      );
      assert.ok(sample(text, 'migration_buddy_step_duration_seconds_count', { kind: 'verify' }) >= 1);
      assert.ok(sample(text, 'migration_buddy_keys_copied_total', { strategy: 'dump-restore' }) >= KEYS);
      assert.ok(sample(text, 'migration_buddy_bytes_copied_total') > 0);
      assert.equal(sample(text, 'migration_buddy_write_pause_seconds_count'), 1);
      assert.ok(sample(text, 'migration_buddy_approval_wait_seconds_count') >= 1);
      assert.ok(sample(text, 'migration_buddy_migrations', { state: 'succeeded' }) >= 1);
      assert.equal(sample(text, 'migration_buddy_control_redis_up'), 1);
      sample(text, 'migration_buddy_queue_jobs', { queue: 'mb-steps', state: 'completed' });
      assert.ok(sample(text, 'migration_buddy_process_resident_memory_bytes') > 0);

      // The dashboard: refused without the token, read-only with it (Bearer or Basic).
      assert.equal((await get(port, '/queues')).status, 401);
      assert.equal(
        (await get(port, '/queues', { authorization: 'Bearer wrong-token-wrong-token' })).status,
        401,
      );
      const page = await get(port, '/queues', { authorization: `Bearer ${DASHBOARD_TOKEN}` });
      assert.equal(page.status, 200);
      assert.match(page.text, /<html/i);
      const basic = `Basic ${Buffer.from(`ops:${DASHBOARD_TOKEN}`).toString('base64')}`;
      const api = await get(port, '/queues/api/queues', { authorization: basic });
      assert.equal(api.status, 200, api.text);
      const queues = (JSON.parse(api.text) as { queues: { name: string; readOnlyMode: boolean }[] }).queues;
      assert.deepEqual(queues.map((q) => [q.name, q.readOnlyMode]).sort(), [
        ['mb-followers', true],
        ['mb-steps', true],
      ]);
      assert.ok(!worker.output().includes(DASHBOARD_TOKEN));
    } finally {
      await rt.close();
      assert.equal(await worker.stop(), 0, worker.output());
    }
  });

  test('off without OPS_PORT; a dashboard token without a port is refused at start', async () => {
    const run = spawnCli(['worker', '--config', config], { OPS_DASHBOARD_TOKEN: DASHBOARD_TOKEN }, dir);
    assert.equal(await run.exited, 2);
    assert.match(
      run.output(),
      /OPS_DASHBOARD_TOKEN is set but the ops listener is off: set OPS_PORT or --ops-port/,
    );
    assert.ok(!run.output().includes(DASHBOARD_TOKEN));
  });
});

describe('serve starts whatever is down at first', () => {
  const base = { SLACK_SIGNING_SECRET: SIGNING_SECRET, MIGRATION_BUDDY_CONFIG: '', LOG_LEVEL: 'info' };
  const env = (extra: Record<string, string>) => ({ ...base, MIGRATION_BUDDY_CONFIG: config, ...extra });

  async function opsPort(run: CliChild): Promise<number> {
    return Number(
      (await run
        .waitFor(/"msg":"ops listener up"/)
        .then(() => /"port":(\d+),"paths"/.exec(run.output())))![1],
    );
  }

  test('Slack unreachable (Socket Mode): retried with the reason, /readyz 503, no stack', async () => {
    const closed = await freePort();
    const run = spawnCli(
      ['serve', '--ops-port', '0'],
      env({
        SLACK_BOT_TOKEN: FAKE_BOT_TOKEN,
        SLACK_APP_TOKEN: FAKE_APP_TOKEN,
        SLACK_API_URL: `http://127.0.0.1:${closed}/api/`,
      }),
      dir,
    );
    try {
      const port = await opsPort(run);
      await run.waitFor(
        /serve could not start \(attempt 2\): Slack's Web API cannot be reached \(ECONNREFUSED\)/,
      );
      assert.equal((await get(port, '/healthz')).status, 200);
      const ready = await get(port, '/readyz');
      assert.equal(ready.status, 503);
      assert.match(ready.text, /not ready: Slack's Web API cannot be reached/);
      const metrics = await get(port, '/metrics');
      assert.ok(
        sample(metrics.text, 'migration_buddy_slack_api_calls_total', {
          method: 'auth.test',
          outcome: 'unreachable',
        }) >= 2,
      );
    } finally {
      await run.stop();
    }
    assertNoStack(run.output());
    assert.equal(run.output().match(/serve could not start \(attempt 1\)/g)?.length, 1);
  });

  test('Socket Mode: a refused app token says to check SLACK_APP_TOKEN; a good one makes it ready', async () => {
    const wrongApp = 'xapp-1-wrong-app-token-for-ops-777';
    const refused = spawnCli(
      ['serve', '--ops-port', '0', '--no-workers'],
      env({ SLACK_BOT_TOKEN: FAKE_BOT_TOKEN, SLACK_APP_TOKEN: wrongApp, SLACK_API_URL: fake.apiUrl }),
      dir,
    );
    try {
      const port = await opsPort(refused);
      await refused.waitFor(/attempt 1\): Slack: authentication failed: check SLACK_APP_TOKEN/);
      assert.equal((await get(port, '/readyz')).status, 503);
    } finally {
      await refused.stop();
    }
    assertNoStack(refused.output());
    assert.ok(!refused.output().includes(wrongApp));

    const good = spawnCli(
      ['serve', '--ops-port', '0', '--no-workers'],
      env({ SLACK_BOT_TOKEN: FAKE_BOT_TOKEN, SLACK_APP_TOKEN: FAKE_APP_TOKEN, SLACK_API_URL: fake.apiUrl }),
      dir,
    );
    try {
      const port = await opsPort(good);
      await good.waitFor(/migration-buddy serve is running/);
      assert.deepEqual(await get(port, '/readyz').then((r) => [r.status, r.text.trim()]), [200, 'ready']);
      const metrics = await get(port, '/metrics');
      assert.ok(
        sample(metrics.text, 'migration_buddy_slack_api_calls_total', {
          method: 'apps.connections.open',
          outcome: 'ok',
        }) >= 1,
      );
    } finally {
      assert.equal(await good.stop(), 0, good.output());
    }
  });

  test('a refused bot token says to check SLACK_BOT_TOKEN, and never shows it', async () => {
    const wrong = 'xoxb-wrong-token-for-ops-test-31337';
    const run = spawnCli(
      ['serve', '--ops-port', '0'],
      env({ SLACK_BOT_TOKEN: wrong, SLACK_API_URL: fake.apiUrl, PORT: '0' }),
      dir,
    );
    try {
      const port = await opsPort(run);
      await run.waitFor(
        /attempt 2\): Slack: authentication failed: check SLACK_BOT_TOKEN \(Slack says invalid_auth\); retrying in 2 s/,
      );
      const ready = await get(port, '/readyz');
      assert.equal(ready.status, 503);
      assert.match(ready.text, /authentication failed: check SLACK_BOT_TOKEN/);
      const metrics = await get(port, '/metrics');
      assert.ok(
        sample(metrics.text, 'migration_buddy_slack_api_errors_total', {
          method: 'auth.test',
          error: 'invalid_auth',
        }) >= 2,
      );
    } finally {
      await run.stop();
    }
    assertNoStack(run.output());
    assert.ok(!run.output().includes(wrong));
  });

  test('a control Redis that comes up late: 503 with the reason, then ready (HTTP mode)', async () => {
    const lateConfig = join(dir, 'late.yml');
    const latePort = await freePort();
    writeFileSync(
      lateConfig,
      `endpoints:\n  src:\n    url: ${source.url}\ncontrol:\n  url: redis://127.0.0.1:${latePort}\n`,
    );
    const run = spawnCli(
      ['serve', '--ops-port', '0', '--no-workers', '--shutdown-timeout', '1s'],
      env({
        SLACK_BOT_TOKEN: FAKE_BOT_TOKEN,
        SLACK_API_URL: fake.apiUrl,
        PORT: '0',
        MIGRATION_BUDDY_CONFIG: lateConfig,
      }),
      dir,
    );
    let late: RedisServer | undefined;
    try {
      const port = await opsPort(run);
      await run.waitFor(
        /attempt 1\): control Redis: cannot reach control \(redis:\/\/127\.0\.0\.1:\d+\): connection refused/,
      );
      const ready = await get(port, '/readyz');
      assert.equal(ready.status, 503);
      assert.match(ready.text, /not ready: control Redis: cannot reach control/);
      late = await startRedis({ port: latePort });
      await run.waitFor(/migration-buddy serve is running/, 40_000);
      assert.deepEqual(await get(port, '/readyz').then((r) => [r.status, r.text.trim()]), [200, 'ready']);
      const metrics = await get(port, '/metrics');
      assert.ok(
        sample(metrics.text, 'migration_buddy_slack_api_calls_total', {
          method: 'auth.test',
          outcome: 'ok',
        }) >= 1,
      );
      assert.equal(sample(metrics.text, 'migration_buddy_control_redis_up'), 1);
      // The control Redis going away later makes it unready again, with the reason.
      await late.stop();
      late = undefined;
      const gone = await get(port, '/readyz');
      assert.equal(gone.status, 503);
      assert.match(gone.text, /the control Redis does not answer/);
      // And ready again once it is back (serve's stop with no control Redis would wait it out).
      late = await startRedis({ port: latePort });
      const until = Date.now() + 20_000;
      while ((await get(port, '/readyz')).status !== 200 && Date.now() < until) await sleep(200);
      assert.equal((await get(port, '/readyz')).status, 200);
    } finally {
      await run.stop();
      await late?.stop();
    }
    assertNoStack(run.output());
  });
});
