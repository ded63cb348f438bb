// Whether a database had any key with a TTL while a page of its keys was read, from the server's
// own counters: INFO keyspace (`expires` of the database) and INFO stats (`expired_keys`), read
// in the same pipeline right before and right after the page's reads, so nothing else this tool
// sends runs in between. With `expires=0` at both looks and `expired_keys` unchanged, a key that
// had a TTL when it was read got it after the first look and lost it before the second without
// expiring: it was persisted (it is read as it is now), or overwritten or deleted, which is the
// ordinary write after its read that a copy or verify never sees either. Copy (copy/no-expiry.ts)
// and verify (verify/evaluate.ts) then skip every key's PTTL/PEXPIRETIME: about one command's
// cost per key on the server (bench/guard-cost.ts).
import { infoField, parseInfo, parseKeyspace } from '../probe/info.js';
import { type RespReply, replyText } from './resp/reply.js';

/** The two looks, in this order, before and after the page's reads. */
export const EXPIRY_FACT_COMMANDS: readonly (readonly string[])[] = [
  ['INFO', 'keyspace'],
  ['INFO', 'stats'],
];

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

/** Whether no key read between the two looks can have had a TTL that mattered (see above). */
export function provesNoExpiry(before: ExpiryFacts | undefined, after: ExpiryFacts | undefined): boolean {
  if (!before || !after) return false;
  return before.expires === 0 && after.expires === 0 && before.expiredKeys === after.expiredKeys;
}

/** The replies of a page bracketed by the looks: whether they prove no expiry (cut or refused: no). */
export function bracketProvesNoExpiry(replies: readonly RespReply[], reads: number, db: number): boolean {
  const looks = EXPIRY_FACT_COMMANDS.length;
  return provesNoExpiry(
    expiryFacts(replies.slice(0, looks), db),
    expiryFacts(replies.slice(looks + reads, 2 * looks + reads), db),
  );
}
