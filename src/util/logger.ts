import { type Logger, type LoggerOptions, pino } from 'pino';
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

/**
 * pino logger whose every line is scrubbed of registered secrets before it is written, on top of
 * path redaction: a password inside an error message or URL is caught too.
 */
export function createLogger(
  options: LoggerOptions = {},
  write: (line: string) => void = defaultWrite,
): Logger {
  return pino(
    {
      level: process.env.LOG_LEVEL ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '***' },
      ...options,
    },
    { write: (line: string) => write(scrub(line)) },
  );
}

function defaultWrite(line: string): void {
  process.stderr.write(line);
}
