// How step failures are told apart: worth retrying (the network blinked) or final (bad password,
// target out of memory, verification found differences). Executors may throw the explicit classes;
// anything else is classified by its code and message.
import { errorMessage } from '../util/errors.js';

/** A failure that retrying cannot fix: the step fails at once with this message. */
export class UnrecoverableStepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnrecoverableStepError';
  }
}

/** A failure worth retrying with backoff. */
export class TransientStepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransientStepError';
  }
}

/** Thrown by a fenced write: another worker has taken the step over. */
export class FencedError extends Error {
  constructor(message = 'another worker has taken over this step') {
    super(message);
    this.name = 'FencedError';
  }
}

/** An executor stopped because of an abort; `state` says what it left behind on source and target. */
export class StepAbortedError extends Error {
  constructor(
    readonly state: string,
    message = 'step stopped by abort',
  ) {
    super(message);
    this.name = 'StepAbortedError';
  }
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

const UNRECOVERABLE_PATTERNS = [
  /WRONGPASS|NOAUTH|authentication failed|invalid password|invalid username-password/i,
  /\bOOM\b|used memory > 'maxmemory'/,
  /NOPERM|no permissions?/i,
  /verification failed/i,
];

const TRANSIENT_PATTERNS = [
  /connection refused|connection is closed|connection reset|socket (hang up|closed)/i,
  /timed? ?out|timeout/i,
  /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|CLUSTERDOWN)\b/,
  /host not found/i,
];

export type ErrorClass = 'transient' | 'unrecoverable';

/** Unknown failures are final: retrying a deterministic bug only repeats it. */
export function classifyError(err: unknown): ErrorClass {
  if (err instanceof UnrecoverableStepError) return 'unrecoverable';
  if (err instanceof TransientStepError) return 'transient';
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code && TRANSIENT_CODES.has(code)) return 'transient';
  const message = errorMessage(err);
  if (UNRECOVERABLE_PATTERNS.some((re) => re.test(message))) return 'unrecoverable';
  if (TRANSIENT_PATTERNS.some((re) => re.test(message))) return 'transient';
  return 'unrecoverable';
}
