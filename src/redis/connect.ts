import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Redis, type RedisOptions } from 'ioredis';
import { UserError } from '../util/errors.js';
import { scrub } from '../util/secrets.js';
import { describeEndpoint, type Endpoint } from './endpoint.js';

/** Every connection we open carries this name prefix, so drain checks can tell ours apart. */
export const CLIENT_NAME_PREFIX = 'migration-buddy';

export interface ConnectOptions {
  /** Logical database to select (defaults to the endpoint's). */
  db?: number;
  /** Suffix of the CLIENT SETNAME name, e.g. `probe`, `copy-reader`. */
  role?: string;
  /** How many times to retry a dropped or refused connection before giving up (default 5). */
  maxReconnects?: number;
  /** Per-command retry count while reconnecting; null means wait forever (BullMQ needs that). */
  maxRetriesPerRequest?: number | null;
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
    connectTimeout: options.connectTimeoutMs ?? 10_000,
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
 * Opens a connection and waits until it is ready. Failures become a UserError that names the
 * endpoint (never its password) and says what went wrong: unreachable, auth, TLS.
 */
export async function connect(endpoint: Endpoint, options: ConnectOptions = {}): Promise<Redis> {
  const client = new Redis(redisOptions(endpoint, options));
  // Without a listener ioredis prints every connection error to stderr, unredacted.
  let lastError: Error | undefined;
  client.on('error', (err: Error) => {
    lastError = err;
  });
  try {
    await client.connect();
    return client;
  } catch (err) {
    client.disconnect();
    throw connectionError(endpoint, (lastError ?? err) as Error);
  }
}

/** Turns a low-level connection error into a message for people. */
export function connectionError(endpoint: Pick<Endpoint, 'name' | 'redactedUrl'>, err: Error): UserError {
  const where = describeEndpoint(endpoint);
  const code = (err as NodeJS.ErrnoException).code;
  const msg = scrub(err.message);
  if (code === 'ECONNREFUSED') return new UserError(`cannot reach ${where}: connection refused`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new UserError(`cannot reach ${where}: host not found`);
  if (code === 'ETIMEDOUT' || /timeout/i.test(msg)) return new UserError(`cannot reach ${where}: timed out`);
  if (/WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(msg)) {
    return new UserError(`authentication failed for ${where}: ${msg.replace(/^ReplyError: /, '')}`);
  }
  if (/certificate|self.signed|SSL|TLS/i.test(msg))
    return new UserError(`TLS handshake with ${where} failed: ${msg}`);
  return new UserError(`cannot connect to ${where}: ${msg}`);
}
