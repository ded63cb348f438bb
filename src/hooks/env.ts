// The environment a command hook runs with: a few basics from the worker's environment (not all
// of it: it holds the worker's own secrets), the migration as MB_* variables, and the hook's env.
import { type Endpoint, redactUrl } from '../redis/endpoint.js';
import { registerSecret } from '../util/secrets.js';
import type { HookConfig, HookInvocation } from './types.js';

/** Hook env variables whose values are scrubbed from output and logs. */
const SECRET_NAME = /pass|secret|token|key|auth|credential/i;

const PASSED_THROUGH = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];

/** `redis[s]://user:password@host:port/db` with the endpoint's credentials, however they were configured. */
export function credentialedUrl(endpoint: Endpoint): string {
  const scheme = endpoint.tls ? 'rediss' : 'redis';
  const user = endpoint.username ? encodeURIComponent(endpoint.username) : '';
  const pass = endpoint.password ? `:${encodeURIComponent(endpoint.password)}` : '';
  const auth = user || pass ? `${user}${pass}@` : '';
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${scheme}://${auth}${host}:${endpoint.port}/${endpoint.db}`;
}

function endpointVars(prefix: string, endpoint: Endpoint): Record<string, string> {
  // The hook's output may echo these back; make sure the scrubber knows the passwords.
  registerSecret(endpoint.password);
  const url = credentialedUrl(endpoint);
  return {
    [`${prefix}_NAME`]: endpoint.name,
    [`${prefix}_URL`]: url,
    [`${prefix}_URL_REDACTED`]: redactUrl(url),
    [`${prefix}_HOST`]: endpoint.host,
    [`${prefix}_PORT`]: String(endpoint.port),
    [`${prefix}_DB`]: String(endpoint.db),
  };
}

export function hookEnvironment(
  invocation: HookInvocation,
  def: HookConfig,
  base: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const value = base[name];
    if (value !== undefined) env[name] = value;
  }
  for (const [name, value] of Object.entries(def.env ?? {})) {
    if (SECRET_NAME.test(name)) registerSecret(value);
  }
  Object.assign(env, def.env ?? {}, {
    ...endpointVars('MB_SOURCE', invocation.source),
    ...endpointVars('MB_TARGET', invocation.target),
    MB_MIGRATION_ID: invocation.migrationId,
    MB_STEP: invocation.step.id,
    MB_STEP_KIND: invocation.step.kind,
    MB_HOOK: invocation.hook,
    MB_HOOK_POINT: invocation.point,
    MB_STRATEGY: invocation.strategy ?? '',
  });
  return env;
}
