// The non-empty-target decision for writes that do not come from a live source (an RDB file; the
// psync strategy's full sync): the same rule and wording as the copy (copy-keys.ts prepareTarget).
// Function libraries count as data, as the planner counts them.
import { parseInfo, parseKeyspace } from '../../probe/info.js';
import { describeEndpoint } from '../../redis/endpoint.js';
import { ExitCode, UserError } from '../../util/errors.js';
import { listLibraries } from '../copy/functions.js';
import type { NonEmptyTargetPolicy } from '../copy/types.js';
import type { RespConnection } from '../resp/connection.js';
import { RespError, replyText } from '../resp/reply.js';

export interface PreparedTarget {
  /** Libraries on the target before (null: no FUNCTION support, or refused). */
  libraries: string[] | null;
  /** Databases emptied by 'flush', with the keys they held. */
  flushed: { db: number; keys: number }[];
}

export async function prepareTarget(
  dst: RespConnection,
  policy: NonEmptyTargetPolicy,
  dbs: 'all' | readonly number[],
  confirmFlush?: (nonEmpty: { db: number; keys: number }[], libraries: string[]) => Promise<boolean>,
): Promise<PreparedTarget> {
  const keyspace = parseKeyspace(parseInfo(replyText(await dst.call('INFO', 'keyspace')) ?? ''));
  const relevant = keyspace.filter((k) => k.keys > 0 && (dbs === 'all' || dbs.includes(k.db)));
  const libraries = await listLibraries(dst);
  const where = describeEndpoint(dst.endpoint);
  const hasLibraries = (libraries?.length ?? 0) > 0;
  if (policy === 'refuse' && (relevant.length > 0 || hasLibraries)) {
    const parts = relevant.map((k) => `db${k.db} has ${k.keys} key${k.keys === 1 ? '' : 's'}`);
    if (hasLibraries) parts.push(`function libraries: ${[...libraries!].sort().join(', ')}`);
    throw new UserError(
      `target ${where} is not empty: ${parts.join(', ')}. Choose replace (--replace: same-name keys ` +
        `and libraries are overwritten, the target's other libraries stay) or flush (--flush-target: ` +
        `those databases are emptied first and the target's libraries become exactly the file's)`,
      ExitCode.problem,
    );
  }
  const flushed: { db: number; keys: number }[] = [];
  if (policy === 'flush' && (relevant.length > 0 || hasLibraries)) {
    const nonEmpty = relevant.map((k) => ({ db: k.db, keys: k.keys }));
    if (confirmFlush && !(await confirmFlush(nonEmpty, libraries ?? []))) {
      throw new UserError(`not confirmed: target ${where} was left as it was`, ExitCode.problem);
    }
    const back = dst.db;
    for (const k of relevant) {
      await dst.select(k.db);
      // ASYNC (Redis 4+) frees memory in the background; older servers flush synchronously.
      const [reply] = await dst.exec([['FLUSHDB', 'ASYNC']]);
      if (reply instanceof RespError) await dst.call('FLUSHDB');
      flushed.push({ db: k.db, keys: k.keys });
    }
    await dst.select(back);
    if (hasLibraries) await dst.call('FUNCTION', 'FLUSH');
  }
  return { libraries, flushed };
}
