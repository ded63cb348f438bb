// Why `serve` could not start, in one line that says what to check: each start stage (the bot
// token's auth.test, the control Redis, the Socket Mode connection or HTTP port) wraps its error
// in a ServeStartError. The start is retried; these lines are what the log shows per attempt.
import { errorMessage } from '../util/errors.js';
import { redactCredentials } from './logger-adapter.js';

export type StartStage = 'slack' | 'control' | 'receiver';

export class ServeStartError extends Error {
  constructor(
    message: string,
    readonly stage: StartStage,
  ) {
    super(message);
    this.name = 'ServeStartError';
  }
}

const AUTH_ERRORS = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'not_allowed_token_type',
]);

/** Runs one start stage; its failure becomes a ServeStartError with the reason. */
export async function startStage<T>(stage: StartStage, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ServeStartError) throw err;
    throw new ServeStartError(describeStartFailure(stage, err), stage);
  }
}

export function describeStartFailure(stage: StartStage, err: unknown): string {
  const e = err as {
    code?: string;
    data?: { error?: string };
    original?: { code?: string; message?: string };
  };
  const token = stage === 'receiver' ? 'SLACK_APP_TOKEN' : 'SLACK_BOT_TOKEN';
  if (stage === 'control') return `control Redis: ${redactCredentials(errorMessage(err))}`;
  const slackError = e.data?.error;
  if (e.code === 'slack_webapi_platform_error' && slackError && AUTH_ERRORS.has(slackError)) {
    return `Slack: authentication failed: check ${token} (Slack says ${slackError})`;
  }
  if (e.code === 'slack_webapi_platform_error') return `Slack: ${slackError ?? 'error'} (check ${token})`;
  if (e.code === 'slack_webapi_request_error') {
    const why = e.original?.code ?? (e.original as { cause?: { code?: string } } | undefined)?.cause?.code;
    return (
      `Slack's Web API cannot be reached (${why ?? redactCredentials(e.original?.message ?? errorMessage(err))}): ` +
      'check the route to slack.com (a proxy, DNS, a firewall) or SLACK_API_URL'
    );
  }
  if (e.code === 'slack_webapi_rate_limited_error') return 'Slack: rate limited; waiting';
  if (e.code === 'slack_webapi_http_error')
    return `Slack: HTTP error (${redactCredentials(errorMessage(err))})`;
  const what = stage === 'receiver' ? 'the Slack connection (Socket Mode) or HTTP port' : 'Slack';
  return `${what}: ${redactCredentials(errorMessage(err))}`;
}
