import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { type Endpoint, EndpointUrlError, looksLikeUrl, parseEndpointUrl } from '../redis/endpoint.js';
import { ConfigError, UserError } from '../util/errors.js';
import { interpolateEnv } from './interpolate.js';
import { type ConfigFile, configSchema } from './schema.js';
import { resolveSecretFiles, type SecretFileProblem } from './secret-files.js';

export const DEFAULT_CONFIG_FILE = 'migration-buddy.yml';

/** A validated config with its endpoints parsed. */
export interface Config extends ConfigFile {
  file: string;
  resolvedEndpoints: Map<string, Endpoint>;
}

/** Reads, interpolates and validates a config file; every problem names the file and field. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      file,
      '',
      code === 'ENOENT' ? 'file not found' : `cannot read: ${(err as Error).message}`,
    );
  }
  return parseConfig(text, file, env);
}

export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0];
    throw new ConfigError(file, line ? `line ${line.line}` : '', `invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const raw = doc.toJS() ?? {};
  const missing: { path: string; variable: string }[] = [];
  const interpolated = interpolateEnv(raw, env, [], missing);
  // Every missing variable and unreadable secret file at once: one run to fix them all.
  const problems: SecretFileProblem[] = missing.map((m) => ({
    path: m.path,
    problem: `environment variable ${m.variable} is not set`,
  }));
  const withSecrets = resolveSecretFiles(interpolated, problems);
  if (problems.length === 1) throw new ConfigError(file, problems[0]!.path, problems[0]!.problem);
  if (problems.length > 1) {
    throw new ConfigError(
      file,
      null,
      `${problems.length} problems:\n${problems.map((p) => `  - ${p.path}: ${p.problem}`).join('\n')}`,
    );
  }
  const result = configSchema.safeParse(withSecrets);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ConfigError(file, issue.path.map(String).join('.'), issue.message);
  }
  const resolvedEndpoints = new Map<string, Endpoint>();
  for (const [name, ep] of Object.entries(result.data.endpoints)) {
    try {
      const extra: Parameters<typeof parseEndpointUrl>[2] = { cluster: ep.cluster };
      if (ep.tls) extra.tls = ep.tls;
      if (ep.username) extra.username = ep.username;
      if (ep.password) extra.password = ep.password;
      if (ep.connectTimeout !== undefined) extra.connectTimeoutMs = ep.connectTimeout;
      resolvedEndpoints.set(name, parseEndpointUrl(ep.url, name, extra));
    } catch (err) {
      if (err instanceof EndpointUrlError) throw new ConfigError(file, `endpoints.${name}.url`, err.message);
      throw err;
    }
  }
  return { ...result.data, file, resolvedEndpoints };
}

/**
 * Finds an endpoint by name in the config, or parses a raw URL (the CLI takes either).
 * `config` may be undefined when no config file exists and only URLs are used.
 */
export function resolveEndpoint(
  nameOrUrl: string,
  config: Config | undefined,
  /** Which argument this is ("the source"), to say which one was wrong without repeating it. */
  role?: string,
): Endpoint {
  if (looksLikeUrl(nameOrUrl)) {
    try {
      return parseEndpointUrl(nameOrUrl);
    } catch (err) {
      throw new UserError(`${role ? `${role} URL` : 'bad endpoint URL:'} ${(err as Error).message}`);
    }
  }
  const found = config?.resolvedEndpoints.get(nameOrUrl);
  if (found) return found;
  // What was typed is not repeated: a password pasted where a name goes looks like a name.
  const known = config ? [...config.resolvedEndpoints.keys()] : [];
  const hint = known.length ? `known endpoints: ${known.join(', ')}` : `no config file loaded (--config)`;
  throw new UserError(
    `${role ?? 'that'} is not an endpoint in the config (${hint}); give a name from the config or a redis:// URL`,
  );
}
