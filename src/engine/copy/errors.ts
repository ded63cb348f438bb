// Errors that stop a copy (as opposed to per-key errors, which are collected and reported).
import { ExitCode, UserError } from '../../util/errors.js';
import type { RespError } from '../resp/reply.js';
import type { CopyReport } from './types.js';

/** A server answered in a way that makes going on pointless (out of memory, not writable). */
export class FatalReplyError extends Error {
  constructor(
    readonly side: 'source' | 'target',
    readonly kind: 'oom' | 'unavailable',
    readonly reply: string,
  ) {
    super(reply);
    this.name = 'FatalReplyError';
  }
}

/**
 * The run stopped before the end. The message says why and how to go on; `report` holds what was
 * done until then (counters are those of the last saved checkpoint).
 */
export class CopyStoppedError extends UserError {
  constructor(
    message: string,
    exitCode: number,
    readonly report: CopyReport,
  ) {
    super(message, exitCode);
    this.name = 'CopyStoppedError';
  }
}

export const STOP_EXIT = { problem: ExitCode.problem, unreachable: ExitCode.usage } as const;

/** Error replies that mean the server cannot take writes (or any command) right now. */
const UNAVAILABLE = new Set([
  'READONLY',
  'LOADING',
  'MASTERDOWN',
  'MISCONF',
  'BUSY',
  'NOAUTH',
  'CLUSTERDOWN',
]);

/** Classifies an error reply: a reason to stop the whole run, or null for a per-key error. */
export function fatalKind(reply: RespError): 'oom' | 'unavailable' | null {
  const code = reply.code;
  if (code === 'OOM') return 'oom';
  if (UNAVAILABLE.has(code)) return 'unavailable';
  return null;
}

/** RESTORE rejected the payload format: copy the key with native commands instead. */
export function isPayloadRejection(reply: RespError): boolean {
  return /payload version or checksum are wrong/i.test(reply.message);
}
