// Process settings of the Slack app, from the environment. Every problem is reported at once, one
// line each, and no line ever contains a token or password (only which variable is wrong and why).
import { existsSync } from 'node:fs';
import { type Config, DEFAULT_CONFIG_FILE, loadConfig } from '../config/load.js';
import { readSecretFile } from '../config/secret-files.js';
import { type Endpoint, EndpointUrlError, parseEndpointUrl, redactUrl } from '../redis/endpoint.js';
import { ConfigError, errorMessage, UserError } from '../util/errors.js';
import { registerSecret } from '../util/secrets.js';

export interface SlackSettings {
  botToken: string;
  /** Required in HTTP mode; not needed (but checked when given) in Socket Mode. */
  signingSecret?: string;
  /** Set = Socket Mode (the default way to run); unset = HTTP on `port` at /slack/events. */
  appToken?: string;
  mode: 'socket' | 'http';
  port: number;
  /** CONTROL_REDIS_URL, when set (the config's control.url takes precedence; see readServeSettings). */
  controlRedisUrl?: string;
  /** For logs: the control Redis URL without its password. */
  controlRedisRedacted?: string;
  configPath: string;
  /** Web API base URL ending in '/'; unset = Slack's own. */
  slackApiUrl?: string;
}

export class SettingsError extends UserError {
  constructor(readonly problems: string[]) {
    super(`The Slack app cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SettingsError';
  }
}

export interface ReadSettingsOptions {
  /** --config on the command line; wins over MIGRATION_BUDDY_CONFIG. */
  configPath?: string;
  /** The config file names a control Redis (control.url), so CONTROL_REDIS_URL may be unset. */
  controlInConfig?: boolean;
}

/** Reads and checks the settings; throws SettingsError listing every problem. */
export function readSlackSettings(
  env: NodeJS.ProcessEnv = process.env,
  fileExists: (path: string) => boolean = existsSync,
  options: ReadSettingsOptions = {},
): SlackSettings {
  const problems: string[] = [];
  const get = (name: string) => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  // SLACK_BOT_TOKEN_FILE=/run/secrets/bot-token and the like: secrets mounted as files.
  const secret = (name: string) => {
    const path = get(`${name}_FILE`);
    if (!path) return get(name);
    if (get(name)) {
      problems.push(`set ${name} or ${name}_FILE, not both.`);
      return undefined;
    }
    try {
      return readSecretFile(path).trim() || undefined;
    } catch (err) {
      problems.push(
        `${name}_FILE: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}.`,
      );
      return undefined;
    }
  };

  const botToken = secret('SLACK_BOT_TOKEN');
  registerSecret(botToken);
  if (!botToken) {
    problems.push(
      'SLACK_BOT_TOKEN is not set (the bot token from "OAuth & Permissions", starting with xoxb-).',
    );
  } else if (!botToken.startsWith('xoxb-')) {
    problems.push('SLACK_BOT_TOKEN does not look like a bot token: it should start with xoxb-.');
  }

  const appToken = secret('SLACK_APP_TOKEN');
  registerSecret(appToken);
  if (appToken && !appToken.startsWith('xapp-')) {
    problems.push(
      'SLACK_APP_TOKEN does not look like an app-level token: it should start with xapp- ' +
        '(Basic Information -> App-Level Tokens, scope connections:write).',
    );
  }
  const mode = appToken ? 'socket' : 'http';

  const signingSecret = secret('SLACK_SIGNING_SECRET');
  registerSecret(signingSecret);
  if (!signingSecret && mode === 'http') {
    problems.push(
      'SLACK_SIGNING_SECRET is not set; HTTP mode needs it to verify requests (or set SLACK_APP_TOKEN ' +
        'for Socket Mode).',
    );
  } else if (signingSecret && /\s/.test(signingSecret)) {
    problems.push('SLACK_SIGNING_SECRET contains whitespace; copy it again from Basic Information.');
  }

  let port = 3000;
  const portText = get('PORT');
  if (portText !== undefined) {
    port = Number(portText);
    if (!/^\d+$/.test(portText) || port > 65535) {
      problems.push(`PORT must be a number from 0 to 65535 (got "${portText.slice(0, 12)}").`);
    }
  }

  const controlRedisUrl = secret('CONTROL_REDIS_URL');
  let controlRedisRedacted = '';
  if (!controlRedisUrl) {
    if (!options.controlInConfig) {
      problems.push(
        'CONTROL_REDIS_URL is not set (redis://[user:password@]host:port/db of the control Redis), ' +
          'and the config file has no control.url.',
      );
    }
  } else {
    controlRedisRedacted = redactUrl(controlRedisUrl);
    try {
      parseEndpointUrl(controlRedisUrl, 'control'); // registers its password as a secret
    } catch (err) {
      const why = err instanceof EndpointUrlError ? err.message : 'is not a valid URL';
      problems.push(`CONTROL_REDIS_URL ${why}.`);
    }
  }

  const configPath = options.configPath ?? get('MIGRATION_BUDDY_CONFIG') ?? DEFAULT_CONFIG_FILE;
  if (!fileExists(configPath)) {
    problems.push(
      options.configPath
        ? `--config points to ${configPath}, which does not exist.`
        : get('MIGRATION_BUDDY_CONFIG')
          ? `MIGRATION_BUDDY_CONFIG points to ${configPath}, which does not exist.`
          : `MIGRATION_BUDDY_CONFIG is not set and ${DEFAULT_CONFIG_FILE} does not exist in ${process.cwd()}.`,
    );
  }

  let slackApiUrl = get('SLACK_API_URL');
  if (slackApiUrl !== undefined) {
    if (!/^https?:\/\/[^\s/]+/i.test(slackApiUrl) || !URL.canParse(slackApiUrl)) {
      problems.push('SLACK_API_URL must be an http:// or https:// URL (e.g. https://slack.com/api/).');
    } else if (!slackApiUrl.endsWith('/')) {
      slackApiUrl += '/';
    }
  }

  if (problems.length > 0) throw new SettingsError(problems);
  const settings: SlackSettings = { botToken: botToken!, mode, port, configPath };
  if (controlRedisUrl) {
    settings.controlRedisUrl = controlRedisUrl;
    settings.controlRedisRedacted = controlRedisRedacted;
  }
  if (signingSecret) settings.signingSecret = signingSecret;
  if (appToken) settings.appToken = appToken;
  if (slackApiUrl) settings.slackApiUrl = slackApiUrl;
  return settings;
}

export interface ServeSettings {
  settings: SlackSettings;
  config: Config;
  /** The control Redis: the config's control.url, else CONTROL_REDIS_URL. */
  control: Endpoint;
  /** Things worth a line in the log at start (e.g. both control URLs set and different). */
  notes: string[];
}

/**
 * Everything `serve` needs, checked together so that one start reports every problem, one line
 * each: the Slack settings, the config file, and the control Redis.
 *
 * Control Redis precedence: the config's `control.url` wins over CONTROL_REDIS_URL, the same rule
 * as `worker`, `migrate` and `audit` (src/jobs/connection.ts), so a serve and a worker started from
 * the same config can never end up on different control servers. When both are set and differ,
 * a note says which one is used.
 */
export function readServeSettings(
  env: NodeJS.ProcessEnv = process.env,
  options: {
    configPath?: string;
    fileExists?: (path: string) => boolean;
    load?: (file: string, env: NodeJS.ProcessEnv) => Config;
  } = {},
): ServeSettings {
  const fileExists = options.fileExists ?? existsSync;
  const load = options.load ?? loadConfig;
  const problems: string[] = [];
  const path =
    options.configPath ??
    (env.MIGRATION_BUDDY_CONFIG?.trim() ? env.MIGRATION_BUDDY_CONFIG.trim() : DEFAULT_CONFIG_FILE);

  let config: Config | undefined;
  if (fileExists(path)) {
    try {
      config = load(path, env);
    } catch (err) {
      problems.push(
        err instanceof ConfigError ? `Config ${err.message}` : `Config ${path}: ${errorMessage(err)}`,
      );
    }
  }
  const controlInConfig = Boolean(config?.control?.url);
  let settings: SlackSettings | undefined;
  try {
    const readOptions: ReadSettingsOptions = { controlInConfig };
    if (options.configPath) readOptions.configPath = options.configPath;
    settings = readSlackSettings(env, fileExists, readOptions);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    problems.push(...err.problems);
  }

  const notes: string[] = [];
  let control: Endpoint | undefined;
  const fromConfig = config?.control?.url;
  if (fromConfig) {
    try {
      control = parseEndpointUrl(fromConfig, 'control');
    } catch (err) {
      const why = err instanceof EndpointUrlError ? err.message : 'is not a valid URL';
      problems.push(`Config ${path}: control.url ${why}.`);
    }
    const fromEnv = settings?.controlRedisUrl;
    if (control && fromEnv && fromEnv !== fromConfig) {
      notes.push(
        `control.url in ${path} (${control.redactedUrl}) is used; CONTROL_REDIS_URL ` +
          `(${redactUrl(fromEnv)}) is ignored.`,
      );
    }
  } else if (settings?.controlRedisUrl) {
    control = parseEndpointUrl(settings.controlRedisUrl, 'control');
  }
  if (problems.length > 0 || !settings || !config || !control) throw new SettingsError(problems);
  return { settings, config, control, notes };
}
