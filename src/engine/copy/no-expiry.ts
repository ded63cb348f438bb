// DUMP without PTTL in a database where no key expires: one command per key less on the source
// (PTTL cost 0.9 us/key of source CPU next to DUMP's 2.65 here: bench/guard-cost.ts). The page's
// DUMPs are bracketed by the source's expiry facts (expiry-facts.ts); when they do not prove that
// no key had a TTL (a TTL seen, a key expired anywhere, INFO refused or cut by the byte cap), the
// caller reads that page again with PTTL and stops skipping in that database.
import { bracketProvesNoExpiry, EXPIRY_FACT_COMMANDS } from '../expiry-facts.js';
import type { RespConnection } from '../resp/connection.js';
import { commandTemplate } from '../resp/encoder.js';
import type { RespReply } from '../resp/reply.js';

const DUMP = commandTemplate(['DUMP'], 1);

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
  const looks = EXPIRY_FACT_COMMANDS.length;
  // One pipeline: nothing of this copy runs between the two looks and the DUMPs.
  const replies = await src.execEncoded(
    keys.length + 2 * looks,
    (enc) => {
      for (const look of EXPIRY_FACT_COMMANDS) enc.push(look);
      for (const k of keys) enc.pushTemplate(DUMP, k);
      for (const look of EXPIRY_FACT_COMMANDS) enc.push(look);
    },
    maxBytes,
  );
  return bracketProvesNoExpiry(replies, keys.length, db) ? replies.slice(looks, looks + keys.length) : null;
}
