// The test app, run as its own child process by startApp(): one connection (against a cluster,
// an ioredis Cluster client routing each key by its slot, with no retry of its own), one command at a
// time (each waits for its reply), at a steady rate. On an error it reconnects to whatever the
// endpoint file names now and retries the same write; between writes it also notices the file
// naming another server and moves there, as an app reloading its config would (a write blocked by
// a pause stays on the old connection until that connection fails).
// Every acknowledged write is logged (log.ts); on a 'stop' message it reports (AppReport).

import { createWriteStream, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { readEndpoint, readEndpointFile } from './endpoint-file.js';
import type { AckedWrite, AckLine, AppReport } from './log.js';

export interface WriterConfig {
  endpointFile: string;
  rate: number;
  prefix: string;
  logFile: string;
}

/** Counters, hashes and lists are shared by many writes; SET keys are one per write. */
const SHARED_KEYS = 16;
/** Some PX keys expire during a test, the others outlive it. */
const SHORT_PX = 1500;
const LONG_PX = 120_000;
/** After a pause longer than this the schedule restarts instead of bursting to catch up. */
const MAX_BEHIND_MS = 50;
/** Between retries after the first failed one (a server that refuses writes, a file not yet rewritten). */
const RETRY_BACKOFF_MS = 5;
const STOP_GRACE_MS = 10_000;
/** How often the endpoint file is looked at between writes. */
const FILE_CHECK_MS = 20;

type Command = { args: (string | number)[]; write: (reply: unknown, deadline: number) => AckedWrite };

function commandFor(seq: number, prefix: string, startedAt: number): Command {
  const shared = seq % SHARED_KEYS;
  switch (seq % 5) {
    case 0: {
      const key = `${prefix}seq:${seq}`;
      const value = `v${seq}`;
      return { args: ['SET', key, value], write: () => ({ op: 'set', key, value }) };
    }
    case 1: {
      const key = `${prefix}counter:${shared}`;
      return { args: ['INCR', key], write: (reply) => ({ op: 'incr', key, value: Number(reply) }) };
    }
    case 2: {
      const key = `${prefix}hash:${shared}`;
      const field = `f${seq}`;
      const value = `h${seq}`;
      return { args: ['HSET', key, field, value], write: () => ({ op: 'hset', key, field, value }) };
    }
    case 3: {
      const key = `${prefix}list:${shared}`;
      const value = `e${seq}`;
      return { args: ['RPUSH', key, value], write: () => ({ op: 'rpush', key, value }) };
    }
    default: {
      const key = `${prefix}px:${seq}`;
      const value = `p${seq}`;
      const px = seq % 2 === 0 ? SHORT_PX : LONG_PX;
      return {
        args: ['SET', key, value, 'PX', px],
        write: () => ({ op: 'setpx', key, value, px, deadline: startedAt + px }),
      };
    }
  }
}

function hostPort(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || '6379'}`;
}

type Client = Pick<Redis, 'call' | 'disconnect'>;

/** A client that never retries by itself: a failed write is retried by the app, maybe elsewhere. */
async function openClient(url: string, cluster: boolean): Promise<Client> {
  if (!cluster) {
    const client = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 2000,
    });
    client.on('error', () => {});
    await client.connect();
    return client;
  }
  const u = new URL(url);
  const client = new Redis.Cluster([{ host: u.hostname, port: Number(u.port || 6379) }], {
    lazyConnect: true,
    enableOfflineQueue: false,
    clusterRetryStrategy: () => null,
    // A write is sent once; a redirect (MOVED/ASK) is followed, as any cluster client does.
    retryDelayOnFailover: 0,
    retryDelayOnClusterDown: 0,
    retryDelayOnTryAgain: 0,
    maxRedirections: 16,
    redisOptions: {
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
    },
  });
  client.on('error', () => {});
  await client.connect();
  return client as unknown as Client;
}

class Connection {
  client: Client | undefined;
  server = '';
  private url = '';
  private fileMtimeMs = 0;
  private fileCheckedAt = 0;

  constructor(private readonly endpointFile: string) {}

  /** Closes the connection when the endpoint file names another server now (looked at every FILE_CHECK_MS). */
  followFile(): void {
    const now = performance.now();
    if (!this.client || now - this.fileCheckedAt < FILE_CHECK_MS) return;
    this.fileCheckedAt = now;
    try {
      const mtime = statSync(this.endpointFile).mtimeMs;
      if (mtime === this.fileMtimeMs) return;
      this.fileMtimeMs = mtime;
      if (readEndpointFile(this.endpointFile) !== this.url) this.close();
    } catch {
      // Being replaced right now: look again next time.
    }
  }

  async open(): Promise<void> {
    this.close();
    this.fileMtimeMs = statSync(this.endpointFile).mtimeMs;
    const { url, kind } = readEndpoint(this.endpointFile);
    this.url = url;
    this.server = hostPort(url);
    this.client = await openClient(url, kind === 'cluster');
  }

  close(): void {
    this.client?.disconnect();
    this.client = undefined;
  }
}

async function main(config: WriterConfig): Promise<void> {
  const log = createWriteStream(config.logFile, { flags: 'w' });
  const conn = new Connection(config.endpointFile);
  const waits: number[] = [];
  const byServer: Record<string, number> = {};
  const lastErrors: string[] = [];
  let errors = 0;
  let stopping = false;
  let seq = 0;

  const noteError = (err: unknown) => {
    errors++;
    lastErrors.push(`${conn.server || '?'}: ${err instanceof Error ? err.message : String(err)}`);
    if (lastErrors.length > 5) lastErrors.shift();
  };

  /** Sends one write until it is acknowledged; false when the app stopped first. */
  const writeOne = async (n: number): Promise<boolean> => {
    const firstAttempt = Date.now();
    const started = performance.now();
    const command = commandFor(n, config.prefix, firstAttempt);
    for (let attempts = 1; ; attempts++) {
      try {
        if (!conn.client) await conn.open();
        const [name, ...args] = command.args;
        const reply = await conn.client!.call(String(name), ...args);
        const waitMs = performance.now() - started;
        const line: AckLine = {
          ...command.write(reply, firstAttempt),
          seq: n,
          server: conn.server,
          waitMs: Math.round(waitMs * 1000) / 1000,
          attempts,
          at: Date.now(),
        };
        log.write(`${JSON.stringify(line)}\n`);
        waits.push(waitMs);
        byServer[conn.server] = (byServer[conn.server] ?? 0) + 1;
        return true;
      } catch (err) {
        noteError(err);
        conn.close();
        if (abandoned) return false;
        if (attempts > 1) await sleep(RETRY_BACKOFF_MS);
      }
    }
  };

  let abandoned = false;
  let firstWriteAt = 0;
  const loop = async () => {
    const interval = 1000 / config.rate;
    let next = performance.now();
    firstWriteAt = performance.now();
    while (!stopping) {
      const now = performance.now();
      if (now < next) {
        await sleep(Math.max(1, next - now));
        continue;
      }
      if (now - next > MAX_BEHIND_MS) next = now;
      conn.followFile();
      if (!(await writeOne(seq))) break;
      if (seq === 0) process.send?.({ type: 'ready' });
      seq++;
      next += interval;
    }
  };

  const stop = () => {
    if (stopping) return;
    stopping = true;
    // A write still unanswered by then (a pause never lifted) is given up, unlogged.
    setTimeout(() => {
      abandoned = true;
      conn.close();
    }, STOP_GRACE_MS).unref();
  };
  process.on('message', (msg: { type?: string }) => {
    if (msg?.type === 'stop') stop();
  });
  process.on('disconnect', stop);

  await loop();
  conn.close();
  await new Promise<void>((resolve) => log.end(resolve));
  const sorted = [...waits].sort((a, b) => a - b);
  const report: AppReport = {
    acknowledged: waits.length,
    errors,
    maxWaitMs: round(sorted.at(-1) ?? 0),
    p99Ms: round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0),
    byServer,
    logFile: config.logFile,
    durationMs: Math.round(performance.now() - firstWriteAt),
    lastErrors,
  };
  process.send?.({ type: 'report', report });
  process.disconnect?.();
}

const round = (ms: number) => Math.round(ms * 10) / 10;

const config = JSON.parse(process.argv[2] ?? '{}') as WriterConfig;
main(config).catch((err) => {
  process.stderr.write(`app writer failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
