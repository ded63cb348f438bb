// Servers that accept TCP connections and never answer (a stopped process behind a proxy, a
// paused VM, a firewall that lets SYNs through): every command that talks to Redis must give up
// within the connect deadline (10 s by default, handshake and AUTH included) with exit code 2 and
// a message that names the endpoint by its redacted URL and says what to do.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FAKE_BOT_TOKEN, startFakeSlack } from '../fake-slack/index.js';
import { type CliRun, runCli } from '../harness/cli.js';
import { spawnCli } from '../harness/cli-child.js';

const PASSWORD = 'silent-Server-pw-83';
/**
 * From the server's first accepted connection to the CLI's exit. Generous: the deadline is 10 s,
 * and a loaded 2-core machine adds seconds. (Time from spawn is not the measure: starting several
 * tsx processes at once takes longer than the deadline itself here.)
 */
const BOUND_MS = 16_000;

interface FakeServer {
  server: Server;
  port: number;
  url: string;
  /** When the first connection was accepted (Date.now()), if any was. */
  firstAccept: number | undefined;
  close(): Promise<void>;
}

/**
 * A TCP server on a free loopback port. `onData` decides what (if anything) it answers; the
 * accepted sockets are kept open until close().
 */
async function fakeServer(onData: (socket: Socket, data: Buffer) => void): Promise<FakeServer> {
  const sockets = new Set<Socket>();
  let firstAccept: number | undefined;
  const server = createServer((socket) => {
    firstAccept ??= Date.now();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (data) => onData(socket, data));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    server,
    port,
    url: `redis://:${PASSWORD}@127.0.0.1:${port}/0`,
    get firstAccept() {
      return firstAccept;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const servers: FakeServer[] = [];

const silent = async () => {
  const s = await fakeServer(() => {});
  servers.push(s);
  return s;
};

/** Says OK to AUTH and nothing to anything else: a proxy whose backend is gone. */
const authOnly = async () => {
  const s = await fakeServer((socket, data) => {
    for (const _ of data.toString('latin1').matchAll(/\r\nAUTH\r\n/gi)) socket.write('+OK\r\n');
  });
  servers.push(s);
  return s;
};

/** Runs the CLI; `ms` runs from the server's first accepted connection to the exit. */
async function timed(
  server: FakeServer,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CliRun & { ms: number }> {
  const run = await runCli(args, env);
  const exited = Date.now();
  assert.ok(server.firstAccept !== undefined, `never connected: ${run.stderr}`);
  return { ...run, ms: exited - server.firstAccept };
}

function assertGaveUp(run: CliRun & { ms: number }, port: number, what: string): void {
  const output = run.stdout + run.stderr;
  assert.equal(run.code, 2, `${what}: exit code\n${output}`);
  assert.ok(run.ms < BOUND_MS, `${what}: gave up ${run.ms} ms after connecting`);
  assert.ok(output.includes(`redis://:***@127.0.0.1:${port}/0`), `${what}: no redacted URL in\n${output}`);
  assert.ok(!output.includes(PASSWORD), `${what}: password shown`);
  assert.match(output, /no answer within|timed out/, what);
  assert.match(output, /Check that the host and port|Check the host/, what);
}

let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mb-silent-'));
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a server that accepts and never answers', { concurrency: true }, () => {
  for (const [what, args] of [
    ['probe', (url: string) => ['probe', url]],
    ['plan', (url: string) => ['plan', url, url]],
    ['copy', (url: string) => ['copy', url, url, '--replace']],
    ['verify', (url: string) => ['verify', url, url]],
    ['migrate', (url: string) => ['migrate', url, url, '--as', 'alice', '--approve-as', 'bob']],
  ] as const) {
    it(`${what} gives up`, async () => {
      const s = await silent();
      assertGaveUp(await timed(s, args(s.url)), s.port, what);
    });
  }

  for (const command of ['worker', 'audit']) {
    it(`${command} gives up on a silent control Redis`, async () => {
      const s = await silent();
      const args = command === 'audit' ? ['audit', 'm-1'] : [command];
      assertGaveUp(await timed(s, args, { CONTROL_REDIS_URL: s.url }), s.port, command);
    });
  }

  it('serve gives up each start attempt on a silent control Redis, says so, and keeps trying', async () => {
    const config = join(dir, 'serve.yml');
    writeFileSync(config, 'endpoints:\n  old-cache:\n    url: redis://127.0.0.1:1/0\n');
    const s = await silent();
    // Slack answers (a local fake of its Web API): the control Redis is what this test is about.
    const slack = await startFakeSlack();
    const serve = spawnCli(
      ['serve', '--config', config],
      {
        CONTROL_REDIS_URL: s.url,
        SLACK_BOT_TOKEN: FAKE_BOT_TOKEN,
        SLACK_SIGNING_SECRET: 'silent-signing-secret',
        SLACK_API_URL: slack.apiUrl,
        LOG_LEVEL: 'info',
      },
      dir,
    );
    try {
      // serve retries its start (issue #16): each attempt that meets the silent server ends within
      // the connect deadline with one line naming it, and the process does not exit.
      const line = await serve.waitFor(/could not start \(attempt 1\): control Redis:[^\n]*/, 60_000);
      assert.ok(s.firstAccept !== undefined, 'connected to the silent server');
      const ms = Date.now() - s.firstAccept;
      assert.ok(ms < BOUND_MS, `gave up ${ms} ms after connecting`);
      assert.ok(line[0].includes(`redis://:***@127.0.0.1:${s.port}/0`), line[0]);
      assert.match(line[0], /no answer within|timed out/);
      assert.ok(!serve.output().includes(PASSWORD), 'password shown');
      assert.equal(serve.child.exitCode, null, 'still running, retrying');
    } finally {
      await serve.stop(5000);
      await slack.close();
    }
  });
});

describe('a server that answers AUTH and nothing else', { concurrency: true }, () => {
  it('probe (ioredis: the ready check never comes back) gives up', async () => {
    const s = await authOnly();
    assertGaveUp(await timed(s, ['probe', s.url]), s.port, 'probe');
  });

  it('verify (lean client: CLIENT SETNAME never comes back) gives up', async () => {
    const s = await authOnly();
    assertGaveUp(await timed(s, ['verify', s.url, s.url]), s.port, 'verify');
  });

  it("honours the endpoint's connectTimeout from the config file", async () => {
    const s = await authOnly();
    const config = join(dir, 'short.yml');
    writeFileSync(
      config,
      `endpoints:\n  stuck:\n    url: redis://127.0.0.1:${s.port}/0\n    password: ${PASSWORD}\n    connectTimeout: 1500ms\n`,
    );
    const run = await timed(s, ['probe', 'stuck', '--config', config]);
    assert.equal(run.code, 2, run.stderr);
    assert.ok(run.ms < 8000, `gave up ${run.ms} ms after connecting`);
    assert.match(run.stderr, /cannot reach stuck \(redis:\/\/127\.0\.0\.1:\d+\/0\): no answer within 1\.5 s/);
    assert.ok(!run.stderr.includes(PASSWORD));
  });
});
