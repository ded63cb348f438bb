// Logs: pino JSON lines on stderr by default (what log collectors read); human-readable through
// pino-pretty when stderr is a terminal or LOG_FORMAT=pretty (LOG_FORMAT=json forces JSON on a
// terminal). LOG_LEVEL: trace, debug, info, warn, error, fatal or silent.
import { type Logger, type LoggerOptions, pino } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { scrub } from './secrets.js';

export type { Logger };

/** Field paths whose values are secret wherever they appear in a log record. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'pass',
  '*.pass',
  'token',
  '*.token',
  'botToken',
  'appToken',
  'signingSecret',
  '*.signingSecret',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'masterauth',
  '*.masterauth',
];

export type LogFormat = 'json' | 'pretty';

/** LOG_FORMAT if set (json or pretty), else pretty on a terminal and JSON otherwise. */
export function logFormat(
  env: NodeJS.ProcessEnv = process.env,
  isTty = Boolean(process.stderr.isTTY),
): LogFormat {
  const asked = env.LOG_FORMAT?.trim().toLowerCase();
  if (asked === 'pretty' || asked === 'json') return asked;
  return isTty ? 'pretty' : 'json';
}

/**
 * pino logger whose every line is scrubbed of registered secrets before it is written, on top of
 * path redaction: a password inside an error message or URL is caught too. Pretty lines are made
 * from the scrubbed JSON line, so both formats carry the same (scrubbed) content.
 */
export function createLogger(
  options: LoggerOptions = {},
  write: (line: string) => void = defaultWrite,
  // A caller's own sink (tests) reads JSON unless it asks for pretty.
  format: LogFormat = write === defaultWrite ? logFormat() : 'json',
): Logger {
  const pretty =
    format === 'pretty'
      ? prettyFactory({
          colorize: Boolean(process.stderr.isTTY),
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname',
        })
      : undefined;
  return pino(
    {
      level: process.env.LOG_LEVEL ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '***' },
      ...options,
    },
    { write: (line: string) => write(pretty ? pretty(scrub(line)) : scrub(line)) },
  );
}

function defaultWrite(line: string): void {
  process.stderr.write(line);
}
