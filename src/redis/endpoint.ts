import { registerSecret } from '../util/secrets.js';

/** TLS settings of an endpoint. Certificate verification stays on unless explicitly disabled. */
export interface TlsSettings {
  /** Path to a PEM file with the CA bundle to trust. */
  ca?: string;
  /** Path to a PEM client certificate (mutual TLS). */
  cert?: string;
  /** Path to the PEM private key of the client certificate. */
  key?: string;
  /** Server name for SNI and certificate checks, when it differs from the host. */
  servername?: string;
  /** Turns certificate verification off. Only for throwaway test setups. */
  insecureSkipVerify?: boolean;
}

/** A named Redis server. `url` holds credentials: never show it, show `redactedUrl`. */
export interface Endpoint {
  name: string;
  url: string;
  redactedUrl: string;
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  /** The database the URL names (`/3`), when it names one: it selects what is copied (engine/db-mapping.ts). */
  urlDb?: number;
  tls?: TlsSettings;
  cluster: boolean;
  /** Deadline for opening a connection (default DEFAULT_CONNECT_TIMEOUT_MS in connect.ts). */
  connectTimeoutMs?: number;
}

export class EndpointUrlError extends Error {}

/** `redis://user:secret@host:6379/2` -> `redis://user:***@host:6379/2`. Never throws. */
export function redactUrl(url: string): string {
  // Work on the text, not on URL parsing, so even a malformed URL is masked. The userinfo runs to
  // the LAST '@': an unencoded password may itself contain '@' or '/'.
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0];
  if (!scheme) return url.includes('@') ? '***' : url;
  const at = url.lastIndexOf('@');
  if (at < scheme.length) return url;
  const userinfo = url.slice(scheme.length, at);
  const colon = userinfo.indexOf(':');
  const masked = colon === -1 ? '***' : `${userinfo.slice(0, colon)}:***`; // redis://password@host form too
  return `${scheme}${masked}${url.slice(at)}`;
}

/**
 * Parses a `redis://` or `rediss://` URL into an endpoint. Errors never contain the password.
 * `redis://host`, `redis://:pass@host`, `redis://user:pass@host:port/db` are accepted.
 */
export function parseEndpointUrl(
  url: string,
  name = redactUrl(url),
  extra: {
    tls?: TlsSettings;
    cluster?: boolean;
    username?: string;
    password?: string;
    connectTimeoutMs?: number;
  } = {},
): Endpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Don't echo it: text that is not a URL may be a pasted password.
    throw new EndpointUrlError('is not a valid redis:// or rediss:// URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    // Neither here nor below is any part of the URL repeated: it may hold a pasted password.
    throw new EndpointUrlError('must start with redis:// or rediss://');
  }
  if (!parsed.hostname) throw new EndpointUrlError('has no host');
  const port = parsed.port ? Number(parsed.port) : 6379;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new EndpointUrlError('has a port out of range (1-65535)');
  const path = parsed.pathname.replace(/^\//, '');
  const db = path === '' ? 0 : Number(path);
  if (!/^\d*$/.test(path) || !Number.isInteger(db) || db < 0) {
    throw new EndpointUrlError('database must be a number after the host, like redis://host:6379/0');
  }
  // Separate username/password settings win over the URL's, so secrets with '@' or '/' need no encoding.
  const username = extra.username ?? (parsed.username ? decodeURIComponent(parsed.username) : undefined);
  const password = extra.password ?? (parsed.password ? decodeURIComponent(parsed.password) : undefined);
  registerSecret(password);
  registerSecret(parsed.password);
  let tls = extra.tls;
  if (parsed.protocol === 'rediss:' && !tls) tls = {};
  const endpoint: Endpoint = {
    name,
    url,
    redactedUrl: redactUrl(url),
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    db,
    cluster: extra.cluster ?? false,
  };
  if (path !== '') endpoint.urlDb = db;
  if (username && username !== 'default') endpoint.username = username;
  else if (username === 'default' && password) endpoint.username = 'default';
  if (password) endpoint.password = password;
  if (tls) endpoint.tls = tls;
  if (extra.connectTimeoutMs !== undefined) endpoint.connectTimeoutMs = extra.connectTimeoutMs;
  return endpoint;
}

/** How an endpoint is shown to people: its name, and the redacted URL when the name differs. */
export function describeEndpoint(endpoint: Pick<Endpoint, 'name' | 'redactedUrl'>): string {
  return endpoint.name === endpoint.redactedUrl
    ? endpoint.name
    : `${endpoint.name} (${endpoint.redactedUrl})`;
}

/** True when the text looks like a Redis URL rather than an endpoint name. */
export function looksLikeUrl(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
}
