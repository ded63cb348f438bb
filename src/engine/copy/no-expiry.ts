// DUMP without PTTL in a database where no key expires: one command per key less on the source.
//
// Every key's own PTTL costs about what any command costs the source (bench/guard-cost.ts:
// PTTL 0.9 us/key of source CPU next to DUMP's 2.65 on this machine), so a TTL-less database can
// skip them as a whole when it can prove none was needed. The page's DUMPs are bracketed by the
// source's expiry facts (INFO keyspace and INFO stats, in the same pipeline right before and
// right after them, so no other page of this copy runs in between). With `expires=0`
// for the database at both ends and `expired_keys` unchanged, a key that had a TTL when it was
// dumped got it after the first look and lost it before the second without expiring: it was
// persisted (copied as it is now), or overwritten or deleted, which is the ordinary write after
// its DUMP that a copy never sees either (the live phase follows it). Anything else (a TTL seen,
// a key expired anywhere, INFO refused or cut) gives null: the caller reads that page again with
// PTTL and stops skipping in that database.
import { infoField, parseInfo, parseKeyspace } from '../../probe/info.js';
import type { RespConnection } from '../resp/connection.js';
import { commandTemplate } from '../resp/encoder.js';
import { type RespReply, replyText } from '../resp/reply.js';

const DUMP = commandTemplate(['DUMP'], 1);
const INFO_KEYSPACE = ['INFO', 'keyspace'];
const INFO_STATS = ['INFO', 'stats'];

export interface ExpiryFacts {
  /** Keys with a TTL in the database. */
  expires: number;
  /** Keys the server expired so far (all databases). */
  expiredKeys: number;
}

/** Expiry facts of `db` from INFO keyspace and INFO stats replies; undefined when not readable. */
export function expiryFacts(replies: readonly RespReply[], db: number): ExpiryFacts | undefined {
  const keyspace = replyText(replies[0]);
  const stats = replyText(replies[1]);
  if (keyspace === undefined || stats === undefined) return undefined;
  const expired = Number(infoField(parseInfo(stats), 'expired_keys'));
  if (!Number.isInteger(expired)) return undefined;
  // A database that INFO keyspace does not list holds no key at all.
  const entry = parseKeyspace(parseInfo(keyspace)).find((d) => d.db === db);
  return { expires: entry?.expires ?? 0, expiredKeys: expired };
}

/**
 * DUMP replies of `keys` (read under `maxBytes`, as copyBatch reads them), or null when the
 * source's expiry facts do not prove that none of them had a TTL.
 */
export async function dumpsWithoutExpiry(
  src: RespConnection,
  keys: readonly Buffer[],
  db: number,
  maxBytes: number,
): Promise<RespReply[] | null> {
  // One pipeline: nothing of this copy runs between the two looks and the DUMPs.
  const replies = await src.execEncoded(
    keys.length + 4,
    (enc) => {
      enc.push(INFO_KEYSPACE);
      enc.push(INFO_STATS);
      for (const k of keys) enc.pushTemplate(DUMP, k);
      enc.push(INFO_KEYSPACE);
      enc.push(INFO_STATS);
    },
    maxBytes,
  );
  const n = keys.length;
  // A look cut by the byte cap (SkippedBulk) is unreadable: the page is read again with PTTL.
  const before = expiryFacts(replies.slice(0, 2), db);
  const after = expiryFacts(replies.slice(n + 2, n + 4), db);
  return provesNoExpiry(before, after) ? replies.slice(2, n + 2) : null;
}

/** Whether no key dumped between the two looks can have had a TTL that mattered (see above). */
export function provesNoExpiry(before: ExpiryFacts | undefined, after: ExpiryFacts | undefined): boolean {
  if (!before || !after) return false;
  return before.expires === 0 && after.expires === 0 && before.expiredKeys === after.expiredKeys;
}
