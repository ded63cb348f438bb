// `migration-buddy serve` as people run it: the real CLI in a child process. Bad settings are
// reported at start, one line each; a good start listens (HTTP) or connects (Socket Mode) to the
// fake Slack, answers signed commands, and stops cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  FAKE_APP_TOKEN,
  FAKE_BOT_TOKEN,
  type FakeSlack,
  postSigned,
  slashCommandBody,
  startFakeSlack,
} from '../fake-slack/index.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

const SIGNING_SECRET = 'serve-cli-signing-secret-55';
const CONTROL_PW = 'serve-cli-control-pw-31';
const MAIN = resolve('src/cli/main.ts');
/** tsx by absolute URL: the children run in a folder of their own (without node_modules). */
const TSX = import.meta.resolve('tsx');

let control: RedisServer;
let fake: FakeSlack;
let dir: string;
let config: string;

before(async () => {
  control = await startRedis({ password: CONTROL_PW });
  fake = await startFakeSlack();
  dir = mkdtempSync(join(tmpdir(), 'mb-serve-'));
  config = join(dir, 'mb.yml');
  writeFileSync(
    config,
    'endpoints:\n  old-cache:\n    url: redis://127.0.0.1:1/0\n    password: never-shown-pw-77\n',
  );
});
after(async () => {
  await fake?.close();
  await control?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Child {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  waitFor(re: RegExp, ms?: number): Promise<RegExpExecArray>;
}

/** Runs the CLI with exactly `env` (plus PATH), in `cwd` (a folder without a default config). */
function serve(args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'serve', ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const waiters: (() => void)[] = [];
  const onData = (d: Buffer) => {
    text += d.toString();
    for (const w of waiters.splice(0)) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return {
    child,
    output: () => text,
    exited,
    waitFor(re, ms = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} in:\n${text}`)), ms);
        const check = () => {
          const m = re.exec(text);
          if (m) {
            clearTimeout(timer);
            resolve(m);
          } else {
            waiters.push(check);
          }
        };
        check();
        void exited.then(() => {
          if (!re.exec(text)) {
            clearTimeout(timer);
            reject(new Error(`exited without ${re}:\n${text}`));
          }
        });
      });
    },
  };
}

describe('serve settings', () => {
  test('nothing set: every missing setting is one line, and the exit code is 2', async () => {
    const run = serve([], {});
    assert.equal(await run.exited, 2);
    const lines = run.output().trim().split('\n');
    assert.equal(lines[0], 'migration-buddy serve cannot start:');
    const problems = lines.slice(1);
    assert.deepEqual(
      problems.map((l) => /^ {2}- (\S+)/.exec(l)?.[1]),
      ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'CONTROL_REDIS_URL', 'MIGRATION_BUDDY_CONFIG'],
    );
  });

  test('invalid values are named without echoing them; a bad config names its field', async () => {
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, 'endpoints:\n  x:\n    url: redis://h:6379\n    colour: blue\n');
    const run = serve(['--config', bad, '--concurrency', '0'], {
      SLACK_BOT_TOKEN: 'xoxp-not-a-bot-token-91',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      CONTROL_REDIS_URL: 'http://u:ctl-secret-in-url-19@h',
      PORT: 'eighty',
    });
    assert.equal(await run.exited, 2);
    const out = run.output();
    assert.match(out, /- Config .*bad\.yml: endpoints\.x/);
    assert.match(out, /- SLACK_BOT_TOKEN does not look like a bot token/);
    assert.match(out, /- PORT must be a number/);
    assert.match(out, /- CONTROL_REDIS_URL /);
    assert.match(out, /- --concurrency must be 1 or more/);
    for (const secret of ['xoxp-not-a-bot-token-91', 'ctl-secret-in-url-19', SIGNING_SECRET]) {
      assert.ok(!out.includes(secret), secret);
    }
    const missing = serve(['--config', join(dir, 'nope.yml')], {
      SLACK_BOT_TOKEN: FAKE_BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      CONTROL_REDIS_URL: control.url,
    });
    assert.equal(await missing.exited, 2);
    assert.match(missing.output(), /--config points to .*nope\.yml, which does not exist/);
  });

  test('an unreachable control Redis is one line per attempt: the start is retried (ops-listener.test.ts)', async () => {
    const run = serve(['--config', config], {
      SLACK_BOT_TOKEN: FAKE_BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      CONTROL_REDIS_URL: 'redis://127.0.0.1:1/0',
      SLACK_API_URL: fake.apiUrl,
    });
    await run.waitFor(
      /serve could not start \(attempt 1\): control Redis: cannot reach control \(redis:\/\/127\.0\.0\.1:1\/0\): connection refused/,
    );
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 1);
  });
});

describe('serve running', () => {
  test('HTTP mode: listens on PORT, answers signed commands, stops on SIGTERM', async () => {
    const otherControl = `${control.url}/7`;
    const withControl = join(dir, 'with-control.yml');
    writeFileSync(
      withControl,
      `control:\n  url: ${control.url}\nendpoints:\n  old-cache:\n    url: redis://127.0.0.1:1/0\n    password: never-shown-pw-77\n`,
    );
    const run = serve([], {
      SLACK_BOT_TOKEN: FAKE_BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      MIGRATION_BUDDY_CONFIG: withControl,
      CONTROL_REDIS_URL: otherControl,
      SLACK_API_URL: fake.apiUrl,
      PORT: '0',
      LOG_LEVEL: 'info',
    });
    try {
      const port = Number((await run.waitFor(/"mode":"http","port":(\d+)/))[1]);
      // Both control URLs set: the config's wins, and the log says so (without the password).
      assert.match(
        run.output(),
        /control\.url in .*with-control\.yml \(redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\) is used; CONTROL_REDIS_URL \(redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/7\) is ignored/,
      );
      const url = `http://127.0.0.1:${port}/slack/events`;
      const res = await postSigned(
        url,
        slashCommandBody({ text: 'endpoints', responseUrl: fake.newResponseUrl() }),
        {
          signingSecret: SIGNING_SECRET,
        },
      );
      assert.equal(res.status, 200);
      const body = (await res.json()) as { response_type: string; text: string };
      assert.equal(body.response_type, 'ephemeral');
      assert.match(body.text, /old-cache/);
      const unsigned = await postSigned(url, slashCommandBody({ text: 'help' }), { signingSecret: 'wrong' });
      assert.equal(unsigned.status, 401);
      // What used to kill serve and its workers: a signed payload=null, a signed JSON null body.
      for (const [body, contentType] of [
        ['payload=null', 'application/x-www-form-urlencoded'],
        ['null', 'application/json'],
      ] as const) {
        const bad = await postSigned(url, body, { signingSecret: SIGNING_SECRET, contentType });
        assert.equal(bad.status, 400, body);
      }
      const still = await postSigned(url, slashCommandBody({ text: 'help' }), {
        signingSecret: SIGNING_SECRET,
      });
      assert.equal(still.status, 200, 'serve still answers');
    } finally {
      run.child.kill('SIGTERM');
    }
    assert.equal(await run.exited, 0);
    assert.match(run.output(), /"msg":"stopped"/);
    for (const secret of [CONTROL_PW, SIGNING_SECRET, FAKE_BOT_TOKEN, 'never-shown-pw-77']) {
      assert.ok(!run.output().includes(secret), secret);
    }
  });

  test('Socket Mode when SLACK_APP_TOKEN is set: connects, acks commands, stops on SIGTERM', async () => {
    const run = serve(['--config', config, '--no-workers'], {
      SLACK_BOT_TOKEN: FAKE_BOT_TOKEN,
      SLACK_APP_TOKEN: FAKE_APP_TOKEN,
      CONTROL_REDIS_URL: control.url,
      SLACK_API_URL: fake.apiUrl,
      LOG_LEVEL: 'info',
    });
    try {
      await run.waitFor(/"mode":"socket"/);
      await fake.waitForSocket();
      const result = await fake.deliverSlashCommand({ text: 'help' });
      assert.equal(result.acked, true);
      assert.match(String(result.ackPayload?.text), /migration-buddy/);
    } finally {
      run.child.kill('SIGTERM');
    }
    assert.equal(await run.exited, 0);
    await fake.waitFor(() => (fake.socketConnections === 0 ? true : undefined), 5000, 'the socket to close');
  });
});
