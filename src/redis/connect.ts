import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Redis, type RedisOptions } from 'ioredis';
import { UserError } from '../util/errors.js';
import { scrub } from '../util/secrets.js';
import { describeEndpoint, type Endpoint } from './endpoint.js';

/** Every connection we open carries this name prefix, so drain checks can tell ours apart. */
export const CLIENT_NAME_PREFIX = 'migration-buddy';

/**
 * How long opening a connection may take, TCP connect, TLS, AUTH, HELLO/SETNAME/SELECT and the
 * first reply included (an endpoint's `connectTimeout` in the config overrides it). A server that
 * accepts connections but never answers (stopped, paused, a proxy with nothing behind it) must
 * fail the command in seconds, not hang it.
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The connect deadline for an endpoint: the option, else the endpoint's setting, else the default. */
export function connectTimeoutFor(endpoint: Pick<Endpoint, 'connectTimeoutMs'>, override?: number): number {
  return override ?? endpoint.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
}

export interface ConnectOptions {
  /** Logical database to select (defaults to the endpoint's). */
  db?: number;
  /** Suffix of the CLIENT SETNAME name, e.g. `probe`, `copy-reader`. */
  role?: string;
  /** How many times to retry a dropped or refused connection before giving up (default 5). */
  maxReconnects?: number;
  /** Per-command retry count while reconnecting; null means wait forever (BullMQ needs that). */
  maxRetriesPerRequest?: number | null;
  /** Deadline for the whole connection setup (see DEFAULT_CONNECT_TIMEOUT_MS). */
  connectTimeoutMs?: number;
  /** Extra ioredis options for special uses (e.g. a subscriber). */
  extra?: Partial<RedisOptions>;
}

/** ioredis options for an endpoint: auth, db, TLS with verification on unless disabled. */
export function redisOptions(endpoint: Endpoint, options: ConnectOptions = {}): RedisOptions {
  const maxReconnects = options.maxReconnects ?? 5;
  const opts: RedisOptions = {
    host: endpoint.host,
    port: endpoint.port,
    db: options.db ?? endpoint.db,
    connectionName: `${CLIENT_NAME_PREFIX}:${options.role ?? 'client'}`,
    connectTimeout: connectTimeoutFor(endpoint, options.connectTimeoutMs),
    maxRetriesPerRequest: options.maxRetriesPerRequest === undefined ? 3 : options.maxRetriesPerRequest,
    // Back off 100 ms, 200 ms, ... up to 2 s, then give up so the caller can report it.
    retryStrategy: (times: number) => (times > maxReconnects ? null : Math.min(times * 100, 2000)),
    lazyConnect: true,
    ...options.extra,
  };
  if (endpoint.username) opts.username = endpoint.username;
  if (endpoint.password) opts.password = endpoint.password;
  if (endpoint.tls) opts.tls = tlsOptions(endpoint);
  return opts;
}

/** node:tls options for an endpoint (CA, client cert, SNI); shared by ioredis and the lean RESP client. */
export function tlsOptions(endpoint: Endpoint): ConnectionOptions {
  const tls = endpoint.tls ?? {};
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new UserError(
        `${endpoint.name}: cannot read TLS ${what} file ${path}: ${(err as Error).message}`,
      );
    }
  };
  const out: ConnectionOptions = {
    rejectUnauthorized: !tls.insecureSkipVerify,
    servername: tls.servername ?? endpoint.host,
  };
  if (tls.ca) out.ca = read(tls.ca, 'CA');
  if (tls.cert) out.cert = read(tls.cert, 'certificate');
  if (tls.key) out.key = read(tls.key, 'key');
  return out;
}

/**
 * Opens a connection and waits until it is ready, within the endpoint's connect deadline. Failures
 * become a UserError that names the endpoint (never its password) and says what went wrong:
 * unreachable, no answer, auth, TLS.
 */
export async function connect(endpoint: Endpoint, options: ConnectOptions = {}): Promise<Redis> {
  const client = new Redis(redisOptions(endpoint, options));
  // Without a listener ioredis prints every connection error to stderr, unredacted.
  let lastError: Error | undefined;
  client.on('error', (err: Error) => {
    lastError = err;
  });
  // ioredis's connectTimeout ends at the TCP (or TLS) connect: AUTH, SELECT and the ready check
  // after it wait forever on a server that accepts and stays silent. This deadline covers it all.
  const timeoutMs = connectTimeoutFor(endpoint, options.connectTimeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectDeadlineError()), timeoutMs);
  });
  try {
    await Promise.race([client.connect(), deadline]);
    return client;
  } catch (err) {
    client.disconnect();
    if (err instanceof ConnectDeadlineError) throw noAnswerError(endpoint, timeoutMs, lastError);
    throw connectionError(endpoint, (lastError ?? err) as Error);
  } finally {
    clearTimeout(timer);
  }
}

class ConnectDeadlineError extends Error {}

/**
 * The connect deadline passed. With a connection error seen meanwhile (refused, reset) that is
 * the story; otherwise the server took the connection and never answered.
 */
export function noAnswerError(
  endpoint: Pick<Endpoint, 'name' | 'redactedUrl'>,
  timeoutMs: number,
  lastError?: Error,
): UserError {
  const code = (lastError as NodeJS.ErrnoException | undefined)?.code;
  if (lastError && code !== 'ETIMEDOUT' && !/timeout/i.test(lastError.message)) {
    return connectionError(endpoint, lastError);
  }
  return new UserError(
    `cannot reach ${describeEndpoint(endpoint)}: no answer within ${formatSeconds(timeoutMs)} ` +
      '(connect, handshake and AUTH included). Check that the host and port are those of a Redis ' +
      'server that is up, not paused or overloaded, and that no firewall or proxy swallows the ' +
      "traffic; on a slow link raise the endpoint's connectTimeout in the config file.",
  );
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** Turns a low-level connection error into a message for people. */
export function connectionError(endpoint: Pick<Endpoint, 'name' | 'redactedUrl'>, err: Error): UserError {
  const where = describeEndpoint(endpoint);
  const code = (err as NodeJS.ErrnoException).code;
  const msg = scrub(err.message);
  if (code === 'ECONNREFUSED')
    return new UserError(
      `cannot reach ${where}: connection refused. Check the host and port, and that redis-server runs there.`,
    );
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new UserError(`cannot reach ${where}: host not found`);
  if (code === 'ETIMEDOUT' || /timeout/i.test(msg))
    return new UserError(
      `cannot reach ${where}: timed out. Check the host, the port and the firewall; ` +
        "on a slow link raise the endpoint's connectTimeout in the config file.",
    );
  if (/WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(msg)) {
    return new UserError(`authentication failed for ${where}: ${msg.replace(/^ReplyError: /, '')}`);
  }
  if (/certificate|self.signed|SSL|TLS/i.test(msg))
    return new UserError(`TLS handshake with ${where} failed: ${msg}`);
  return new UserError(`cannot connect to ${where}: ${msg}`);
}
