// Where the keys to compare come from: SCAN pages of the selected database (the next page asked
// for while the current one is handled), up to a few pages handled at once, random keys for
// --sample, and which keys of a page the other side lacks.
import { UserError } from '../../util/errors.js';
import type { RespConnection } from '../resp/connection.js';
import { RespError, type RespReply } from '../resp/reply.js';
import { ScanPages, scanCommand } from '../scan-pages.js';

/** SCAN pages of the selected db; the next page is requested while the current one is handled. */
export async function* scanPages(
  conn: RespConnection,
  match: string | undefined,
  count: number,
): AsyncGenerator<Buffer[]> {
  const pages = new ScanPages(
    async (command) => parseScan((await conn.exec([command]))[0], conn.where),
    '0',
    match,
    count,
  );
  try {
    for (;;) {
      const page = await pages.next();
      yield page.keys;
      if (page.cursor === '0') return;
    }
  } finally {
    pages.close();
  }
}

/** Runs `work` on each page with up to `inFlight` pages at once; the first failure stops it. */
export async function forEachPage(
  pages: AsyncIterable<Buffer[]>,
  inFlight: number,
  signal: AbortSignal | undefined,
  work: (keys: Buffer[]) => Promise<void>,
): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: { err: unknown } | undefined;
  const check = () => {
    if (failure) throw failure.err;
    signal?.throwIfAborted();
  };
  try {
    for await (const keys of pages) {
      check();
      if (keys.length === 0) continue;
      const p: Promise<void> = work(keys)
        .catch((err: unknown) => {
          failure ??= { err };
        })
        .finally(() => running.delete(p));
      running.add(p);
      if (running.size >= inFlight) await Promise.race(running);
    }
    await Promise.all(running);
    check();
  } finally {
    await Promise.allSettled(running);
  }
}

/** Keys of this page that do not exist on `conn`: one multi-key EXISTS, per-key only if some are missing. */
export async function keysMissingOn(conn: RespConnection, keys: Buffer[]): Promise<Buffer[]> {
  const [count] = await conn.exec([['EXISTS', ...keys]]);
  if (count instanceof RespError) throw new UserError(`EXISTS on ${conn.where} failed: ${count.message}`);
  // EXISTS counts a key once per mention, so the page is complete exactly when count = length.
  if (count === keys.length) return [];
  const each = await conn.exec(keys.map((k) => ['EXISTS', k]));
  return keys.filter((_, i) => each[i] === 0);
}

/** n random keys (with repeats removed): RANDOMKEY, or SCAN MATCH from a random cursor. */
export async function randomKeys(
  conn: RespConnection,
  scanConn: RespConnection,
  n: number,
  match: string | undefined,
): Promise<Buffer[]> {
  if (n <= 0) return [];
  if (match === undefined) {
    const replies = await conn.exec(Array.from({ length: n }, () => ['RANDOMKEY']));
    return replies.filter((r): r is Buffer => Buffer.isBuffer(r));
  }
  // RANDOMKEY ignores patterns: scan from a random point instead, wrapping around once.
  const out = new Map<string, Buffer>();
  let cursor = String(Math.floor(Math.random() * 0x7fff_ffff));
  let wrapped = false;
  while (out.size < n) {
    const [reply] = await scanConn.exec([scanCommand(cursor, match, 1000)]);
    const page = parseScan(reply, scanConn.where);
    for (const k of page.keys) {
      if (out.size < n) out.set(k.toString('latin1'), k);
    }
    cursor = page.cursor;
    if (cursor === '0') {
      if (wrapped) break;
      wrapped = true;
    }
  }
  return [...out.values()];
}

function parseScan(reply: RespReply | undefined, where: string): { cursor: string; keys: Buffer[] } {
  if (reply instanceof RespError) throw new UserError(`SCAN on ${where} failed: ${reply.message}`);
  if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1])) {
    throw new Error(`SCAN on ${where}: unexpected reply`);
  }
  const cursor = Buffer.isBuffer(reply[0]) ? reply[0].toString() : String(reply[0]);
  return { cursor, keys: reply[1] as Buffer[] };
}
