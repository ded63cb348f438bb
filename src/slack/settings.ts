// Process settings of the Slack app, from the environment. Every problem is reported at once, one
// line each, and no line ever contains a token or password (only which variable is wrong and why).
import { existsSync } from 'node:fs';
import { DEFAULT_CONFIG_FILE } from '../config/load.js';
import { EndpointUrlError, parseEndpointUrl, redactUrl } from '../redis/endpoint.js';
import { UserError } from '../util/errors.js';
import { registerSecret } from '../util/secrets.js';

export interface SlackSettings {
  botToken: string;
  /** Required in HTTP mode; not needed (but checked when given) in Socket Mode. */
  signingSecret?: string;
  /** Set = Socket Mode (the default way to run); unset = HTTP on `port` at /slack/events. */
  appToken?: string;
  mode: 'socket' | 'http';
  port: number;
  controlRedisUrl: string;
  /** For logs: the control Redis URL without its password. */
  controlRedisRedacted: string;
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

/** Reads and checks the settings; throws SettingsError listing every problem. */
export function readSlackSettings(
  env: NodeJS.ProcessEnv = process.env,
  fileExists: (path: string) => boolean = existsSync,
): SlackSettings {
  const problems: string[] = [];
  const get = (name: string) => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };

  const botToken = get('SLACK_BOT_TOKEN');
  registerSecret(botToken);
  if (!botToken) {
    problems.push(
      'SLACK_BOT_TOKEN is not set (the bot token from "OAuth & Permissions", starting with xoxb-).',
    );
  } else if (!botToken.startsWith('xoxb-')) {
    problems.push('SLACK_BOT_TOKEN does not look like a bot token: it should start with xoxb-.');
  }

  const appToken = get('SLACK_APP_TOKEN');
  registerSecret(appToken);
  if (appToken && !appToken.startsWith('xapp-')) {
    problems.push(
      'SLACK_APP_TOKEN does not look like an app-level token: it should start with xapp- ' +
        '(Basic Information -> App-Level Tokens, scope connections:write).',
    );
  }
  const mode = appToken ? 'socket' : 'http';

  const signingSecret = get('SLACK_SIGNING_SECRET');
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

  const controlRedisUrl = get('CONTROL_REDIS_URL');
  let controlRedisRedacted = '';
  if (!controlRedisUrl) {
    problems.push(
      'CONTROL_REDIS_URL is not set (redis://[user:password@]host:port/db of the control Redis).',
    );
  } else {
    controlRedisRedacted = redactUrl(controlRedisUrl);
    try {
      parseEndpointUrl(controlRedisUrl, 'control'); // registers its password as a secret
    } catch (err) {
      const why = err instanceof EndpointUrlError ? err.message : 'is not a valid URL';
      problems.push(`CONTROL_REDIS_URL ${why}.`);
    }
  }

  const configPath = get('MIGRATION_BUDDY_CONFIG') ?? DEFAULT_CONFIG_FILE;
  if (!fileExists(configPath)) {
    problems.push(
      get('MIGRATION_BUDDY_CONFIG')
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
  const settings: SlackSettings = {
    botToken: botToken!,
    mode,
    port,
    controlRedisUrl: controlRedisUrl!,
    controlRedisRedacted,
    configPath,
  };
  if (signingSecret) settings.signingSecret = signingSecret;
  if (appToken) settings.appToken = appToken;
  if (slackApiUrl) settings.slackApiUrl = slackApiUrl;
  return settings;
}
