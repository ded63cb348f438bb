import { scrub } from './secrets.js';

/** Exit codes shared by every CLI command (documented in the README). */
export const ExitCode = {
  ok: 0,
  /** The command ran and found a problem (plan blocked, verification found differences). */
  problem: 1,
  /** Bad input, bad config, or a server that could not be reached. */
  usage: 2,
} as const;

/** An error whose message is meant for people and may be shown as is (already free of secrets). */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.usage,
  ) {
    super(scrub(message));
    this.name = 'UserError';
  }
}

/** Bad configuration: names the file and the field. */
export class ConfigError extends UserError {
  constructor(
    readonly file: string,
    /** The dotted path of the field; '' for the top level; null when the problem names its own fields. */
    readonly field: string | null,
    readonly problem: string,
  ) {
    super(field === null ? `${file}: ${problem}` : `${file}: ${field || '(top level)'}: ${problem}`);
    this.name = 'ConfigError';
  }
}

/** A message from any thrown value, scrubbed of secrets. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return scrub(err.message);
  return scrub(String(err));
}
