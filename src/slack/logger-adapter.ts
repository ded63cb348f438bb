// Bolt, WebClient and SocketModeClient log through @slack/logger's interface (variadic
// debug/info/warn/error, setLevel/getLevel/setName). This routes them into our pino logger, whose
// output is already redacted and scrubbed of registered secrets.
import { LogLevel, type Logger as SlackLogger } from '@slack/bolt';
import type { Logger } from '../util/logger.js';
import { scrub } from '../util/secrets.js';

const PINO_LEVEL: Record<LogLevel, string> = {
  [LogLevel.DEBUG]: 'debug',
  [LogLevel.INFO]: 'info',
  [LogLevel.WARN]: 'warn',
  [LogLevel.ERROR]: 'error',
};

const ORDER = [LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR];

function atLeast(level: LogLevel, min: LogLevel): LogLevel {
  return ORDER.indexOf(level) >= ORDER.indexOf(min) ? level : min;
}

/** The @slack/logger level matching a pino level name (trace -> debug, fatal -> error). */
export function slackLogLevel(pinoLevel: string): LogLevel {
  switch (pinoLevel) {
    case 'trace':
    case 'debug':
      return LogLevel.DEBUG;
    case 'info':
      return LogLevel.INFO;
    case 'warn':
      return LogLevel.WARN;
    default:
      return LogLevel.ERROR;
  }
}

/**
 * A @slack/logger over `logger`. Slack's libraries log whole payloads (command text included) at
 * debug level, so `minLevel` (default info) keeps them quieter than our own debug logs unless asked.
 */
export function slackLoggerFrom(
  logger: Logger,
  name = 'slack',
  minLevel: LogLevel = LogLevel.INFO,
): SlackLogger {
  let child = logger.child({ component: name });
  let level = atLeast(slackLogLevel(logger.level), minLevel);
  child.level = PINO_LEVEL[level];
  const write =
    (method: 'debug' | 'info' | 'warn' | 'error') =>
    (...msg: unknown[]) => {
      const errors = msg.filter((m): m is Error => m instanceof Error);
      const text = redactCredentials(scrub(msg.map(format).join(' ')));
      if (errors.length > 0) child[method]({ err: errors[0] }, text);
      else child[method](text);
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    setLevel(requested: LogLevel) {
      const next = atLeast(requested, minLevel);
      level = next;
      child.level = PINO_LEVEL[next] ?? 'info';
    },
    getLevel: () => level,
    setName(next: string) {
      const current = child.level;
      child = logger.child({ component: next });
      child.level = current;
    },
  };
}

/**
 * Slack's libraries log payloads at debug level, and a payload can hold what someone pasted into
 * a command; mask anything shaped like URL credentials or password=... on top of scrub().
 */
export function redactCredentials(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*):([^\s@/]+)@/gi, '$1$2:***@')
    .replace(/((?:password|passwd|pwd|pass|requirepass|secret|token)\s*[=:]\s*)[^\s&",]+/gi, '$1***');
}

function format(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return value.message;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
