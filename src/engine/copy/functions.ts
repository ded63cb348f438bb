// Redis 7 functions live outside the keyspace, so SCAN never sees them: they are copied with
// FUNCTION DUMP / FUNCTION RESTORE. What happens to libraries already on the target follows the
// non-empty-target policy:
//   refuse  -> a library with the same name on the target is refused up front (with the keys);
//              other target libraries stay (RESTORE ... APPEND);
//   replace -> same-name libraries are overwritten, others stay (RESTORE ... REPLACE);
//   flush   -> the target's libraries become exactly the source's (RESTORE ... FLUSH, or
//              FUNCTION FLUSH when the source has none).
// A target that rejects the payload (older RDB version) gets each library's code with
// FUNCTION LOAD instead.
import { ExitCode, UserError } from '../../util/errors.js';
import type { RespConnection } from '../resp/connection.js';
import { RespError, type RespReply, replyText } from '../resp/reply.js';
import { fieldMap } from '../types/stream.js';
import { isPayloadRejection } from './errors.js';
import type { NonEmptyTargetPolicy } from './types.js';

/** Library names, or null when the server has no functions (Redis < 7) or FUNCTION is refused. */
export async function listLibraries(conn: RespConnection): Promise<string[] | null> {
  const [reply] = await conn.exec([['FUNCTION', 'LIST']]);
  if (reply instanceof RespError || !Array.isArray(reply)) return null;
  return reply.map((lib) => replyText(fieldMap(lib).get('library_name')) ?? '').filter(Boolean);
}

export interface FunctionsOutcome {
  libraries: number;
  action: string;
  /** Set when the source's libraries were not copied: the copy is then not a success. */
  notCopied?: string;
}

/**
 * The failure to report when the source's libraries were not copied (the keys may all be there,
 * but the copy is not complete), or undefined when they were.
 */
export function functionsNotCopied(
  outcome: { libraries: number; notCopied?: string } | null | undefined,
): string | undefined {
  if (!outcome?.notCopied) return undefined;
  return (
    `the source's ${outcome.libraries} function ${outcome.libraries === 1 ? 'library was' : 'libraries were'} ` +
    `not copied (${outcome.notCopied}): the copy is incomplete. Give the target FUNCTION (Redis 7+, ` +
    'allowed for this user), then copy again with --replace'
  );
}

export async function copyFunctions(
  src: RespConnection,
  dst: RespConnection,
  policy: NonEmptyTargetPolicy,
  sourceLibs: string[],
  targetLibs: string[] | null,
): Promise<FunctionsOutcome> {
  if (sourceLibs.length === 0) {
    if (policy === 'flush' && targetLibs && targetLibs.length > 0) {
      await mustOk(dst.exec([['FUNCTION', 'FLUSH']]), 'FUNCTION FLUSH');
      return { libraries: 0, action: `flushed ${targetLibs.length} target libraries (the source has none)` };
    }
    return { libraries: 0, action: 'none' };
  }
  if (targetLibs === null) {
    const why = 'the target has no functions support (Redis < 7) or refuses FUNCTION';
    return { libraries: sourceLibs.length, action: `not copied: ${why}`, notCopied: why };
  }
  const [payload] = await src.exec([['FUNCTION', 'DUMP']]);
  if (!Buffer.isBuffer(payload)) {
    throw new UserError(`FUNCTION DUMP on the source failed: ${String(payload)}`, ExitCode.problem);
  }
  const restorePolicy = policy === 'flush' ? 'FLUSH' : policy === 'replace' ? 'REPLACE' : 'APPEND';
  const [reply] = await dst.exec([['FUNCTION', 'RESTORE', payload, restorePolicy]]);
  if (!(reply instanceof RespError)) {
    return { libraries: sourceLibs.length, action: `restored (${restorePolicy})` };
  }
  if (!isPayloadRejection(reply)) {
    throw new UserError(`FUNCTION RESTORE on the target failed: ${reply.message}`, ExitCode.problem);
  }
  return loadFromCode(src, dst, policy);
}

/** Fallback for targets that reject the payload: FUNCTION LOAD each library's code. */
async function loadFromCode(
  src: RespConnection,
  dst: RespConnection,
  policy: NonEmptyTargetPolicy,
): Promise<FunctionsOutcome> {
  const [list] = await src.exec([['FUNCTION', 'LIST', 'WITHCODE']]);
  if (!Array.isArray(list))
    throw new UserError('FUNCTION LIST WITHCODE on the source failed', ExitCode.problem);
  if (policy === 'flush') await mustOk(dst.exec([['FUNCTION', 'FLUSH']]), 'FUNCTION FLUSH');
  const loads = list.map((lib) => {
    const code = fieldMap(lib).get('library_code');
    return policy === 'refuse'
      ? ['FUNCTION', 'LOAD', code as Buffer]
      : ['FUNCTION', 'LOAD', 'REPLACE', code as Buffer];
  });
  await mustOk(dst.exec(loads), 'FUNCTION LOAD');
  return { libraries: loads.length, action: 'loaded from code (FUNCTION LOAD)' };
}

async function mustOk(pending: Promise<RespReply[]>, what: string): Promise<void> {
  for (const reply of await pending) {
    if (reply instanceof RespError) {
      throw new UserError(`${what} on the target failed: ${reply.message}`, ExitCode.problem);
    }
  }
}
