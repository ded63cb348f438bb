// Starts real redis-server processes on free loopback ports and stops them by PID.
// Never a mock, never a kill by process name.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { type RedisServerBinary, redisServerBinary } from '../../scripts/redis-bin/locate.js';
import { type ServerName, ServerUnavailableError, serverBinary } from '../../scripts/redis-bin/servers.js';

export type { ServerName } from '../../scripts/redis-bin/servers.js';

export interface RedisServerOptions {
  /** `requirepass` for the default user. */
  password?: string;
  /** Extra config lines, e.g. `rename-command CONFIG ""`, `user migrator on >pw ~* +@all -replicaof`. */
  configLines?: string[];
  /** redis-server to run (default: REDIS_SERVER_BIN, the PATH's, or the project's cached copy). */
  binary?: RedisServerBinary;
  /**
   * A named server instead (scripts/redis-bin/servers.ts): 'redis-7.0' is the machine's,
   * 'redis-8.0' and 'valkey-8.1' are Debian 13's, fetched into .cache/redis/trixie when missing.
   * Check serverUnavailable() first to skip where it cannot be had.
   */
  server?: ServerName;
  /** Listen on this port (e.g. to bring a killed server back where it was), without retries. */
  port?: number;
}

export interface RedisServer {
  host: string;
  port: number;
  pid: number;
  password: string | undefined;
  /** redis:// URL with the default user's password, if any. */
  url: string;
  /** URL for a given ACL user. */
  urlFor(user: string, password: string, db?: number): string;
  /** A ready ioredis client (as the default user); closed by stop(). */
  client(db?: number, extra?: Partial<RedisOptions>): Promise<Redis>;
  /** SIGKILL the server without cleanup, e.g. to simulate a crash. */
  kill(): void;
  stop(): Promise<void>;
}

const running = new Set<RedisServer>();
function killAll(): void {
  for (const server of running) server.kill();
}
process.once('exit', killAll);
// The test runner ends a timed-out file with a signal; without this its servers would outlive it.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15));
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Why the named server cannot run here (no Debian archive, apt unreachable: the test skips,
 * saying this), or undefined when it can. Other failures (a broken cached tree) throw.
 */
export async function serverUnavailable(name: ServerName): Promise<string | undefined> {
  try {
    await serverBinary(name);
    return undefined;
  } catch (err) {
    if (err instanceof ServerUnavailableError) return err.message;
    throw err;
  }
}

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary =
    options.binary ?? (options.server ? await serverBinary(options.server) : await redisServerBinary());
  if (options.port !== undefined) return startOnce(options, binary, options.port);
  // A port found free can be taken before redis binds it: retry a few times.
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await startOnce(options, binary, await freePort());
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function startOnce(
  options: RedisServerOptions,
  binary: RedisServerBinary,
  port: number,
): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'mb-redis-'));
  const lines = [
    `port ${port}`,
    'bind 127.0.0.1',
    `dir ${dir}`,
    'save ""',
    'appendonly no',
    'daemonize no',
    'loglevel warning',
    `logfile ${join(dir, 'redis.log')}`,
    ...(options.password ? [`requirepass ${options.password}`] : []),
    ...(options.configLines ?? []),
  ];
  const confPath = join(dir, 'redis.conf');
  writeFileSync(confPath, `${lines.join('\n')}\n`);
  const child: ChildProcess = spawn(binary.path, [...(binary.args ?? []), confPath], {
    stdio: 'ignore',
    env: { ...process.env, ...binary.env },
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${binary.path} did not start`);
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  const clients: Redis[] = [];
  const host = '127.0.0.1';
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';

  const server: RedisServer = {
    host,
    port,
    pid,
    password: options.password,
    url: `redis://${auth}${host}:${port}`,
    urlFor: (user, pw, db = 0) =>
      `redis://${encodeURIComponent(user)}:${encodeURIComponent(pw)}@${host}:${port}/${db}`,
    async client(db = 0, extra = {}) {
      const c = new Redis({
        host,
        port,
        db,
        lazyConnect: true,
        maxRetriesPerRequest: 1,
        retryStrategy: () => null,
        ...(options.password ? { password: options.password } : {}),
        ...extra,
      });
      c.on('error', () => {});
      await c.connect();
      clients.push(c);
      return c;
    },
    kill() {
      if (!exited) child.kill('SIGKILL');
    },
    async stop() {
      running.delete(server);
      for (const c of clients) c.disconnect();
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exitPromise;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };

  // Wait until it answers PING (or exits, e.g. because the port was taken).
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (exited) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`redis-server exited at start on port ${port}`);
    }
    const answeredBy = await answeringPid(host, port, options.password);
    if (answeredBy !== undefined) {
      // stop() and kill() signal the PID started: it must be the one serving this port (with a
      // loader in front, the loader maps the server into its own process).
      if (answeredBy === pid) break;
      child.kill('SIGKILL');
      throw new Error(
        `port ${port} is served by process ${answeredBy}, not by ${pid} that was started: ` +
          'another server took the port; start again',
      );
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server on port ${port} did not answer within 10 s`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  running.add(server);
  return server;
}

/** The process_id of the server answering PING on this port, undefined while none answers. */
async function answeringPid(host: string, port: number, password?: string): Promise<number | undefined> {
  const c = new Redis({
    host,
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 500,
    ...(password ? { password } : {}),
  });
  c.on('error', () => {});
  try {
    await c.connect();
    if ((await c.ping()) !== 'PONG') return undefined;
    const pid = /process_id:(\d+)/.exec(await c.info('server'))?.[1];
    return pid === undefined ? undefined : Number(pid);
  } catch {
    return undefined;
  } finally {
    c.disconnect();
  }
}
