// Compares the per-field TTLs of hashes (HPEXPIRE: Redis >= 7.4, Valkey >= 9) where both servers
// have them. Equal DUMP payloads carry equal field TTLs (they hold the absolute times), so only
// hashes whose payloads did not prove them equal come here. The source's fields are walked with
// HSCAN NOVALUES (Redis >= 7.4, as field TTLs), a page at a time, so memory stays bounded by the
// field names whatever the values' size, and HPEXPIRETIME is read for that page on both sides. Times are put on one clock with the offset verify measured
// (expiry.ts) and compared with the same tolerance as key TTLs. A field on one side only is a
// value difference, found by the value comparison; this reports 'field-ttl' only.
import { parseInfo, parseKeyspace } from '../../probe/info.js';
import { printableKey } from '../../probe/printable-key.js';
import type { RespConnection } from '../resp/connection.js';
import { RespError, type RespReply, replyText } from '../resp/reply.js';
import { fieldExpiryReads, parseFieldExpiries, supportsFieldTtls } from '../types/field-ttls.js';
import type { Difference, EvaluateContext } from './evaluate.js';
import type { ExpiryClock } from './expiry.js';

/** Whether each connection's server has field TTLs, asked once per connection. */
const support = new WeakMap<RespConnection, Promise<boolean>>();

function hasFieldTtls(conn: RespConnection): Promise<boolean> {
  let known = support.get(conn);
  if (!known) {
    known = supportsFieldTtls(conn).catch(() => false);
    support.set(conn, known);
  }
  return known;
}

/**
 * Adds a 'field-ttl' difference to `found[i]` for each hash `keys[i]` (i in `hashes`) whose field
 * TTLs differ, when both servers have field TTLs. Skipped when INFO keyspace counts no hash with
 * field TTLs on either server (the usual case costs two INFO calls per batch). The first page of
 * every hash's fields is read in one pipeline, their expiries in one more per server; only hashes
 * with more fields than a page go on page by page.
 */
export async function compareFieldTtls(
  ctx: EvaluateContext,
  keys: readonly Buffer[],
  hashes: readonly number[],
  found: (Difference[] | undefined)[],
): Promise<void> {
  if (hashes.length === 0) return;
  const [a, b] = await Promise.all([hasFieldTtls(ctx.source), hasFieldTtls(ctx.target)]);
  if (!a || !b) return;
  const [ca, cb] = await Promise.all([countedHashes(ctx.source), countedHashes(ctx.target)]);
  if (ca === 0 && cb === 0) return;
  const firstPages = await ctx.source.exec(
    hashes.map((i) => ['HSCAN', keys[i]!, 0, 'COUNT', ctx.chunkSize, 'NOVALUES']),
  );
  const pages: { i: number; cursor: string; fields: Buffer[]; gaps: FieldGap[] }[] = [];
  hashes.forEach((i, j) => {
    const page = parsePage(firstPages[j]);
    // Gone or retyped meanwhile: the key comparison says so (and re-checks).
    if (page) pages.push({ i, ...page, gaps: [] });
  });
  const withFields = pages.filter((p) => p.fields.length > 0);
  await comparePages(
    ctx,
    withFields.map((p) => ({ key: keys[p.i]!, fields: p.fields, gaps: p.gaps })),
  );
  for (const p of pages) {
    if (p.cursor !== '0') await restOfHash(ctx, keys[p.i]!, p.cursor, p.gaps);
    const diff = summarize(p.gaps);
    if (!diff) continue;
    const existing = found[p.i];
    if (existing) existing.push(diff);
    else found[p.i] = [diff];
  }
}

/** Hashes with field TTLs in every database as INFO keyspace counts them; null when it does not say. */
async function countedHashes(conn: RespConnection): Promise<number | null> {
  const [reply] = await conn.exec([['INFO', 'keyspace']]);
  const dbs = parseKeyspace(parseInfo(replyText(reply ?? null) ?? ''));
  if (dbs.some((d) => d.hashesWithFieldTtls === undefined)) return null;
  return dbs.reduce((n, d) => n + (d.hashesWithFieldTtls ?? 0), 0);
}

interface FieldGap {
  field: Buffer;
  detail: string;
}

function parsePage(reply: RespReply | undefined): { cursor: string; fields: Buffer[] } | null {
  if (reply instanceof RespError || !Array.isArray(reply) || !Array.isArray(reply[1])) return null;
  return { cursor: replyText(reply[0]) ?? '0', fields: reply[1] as Buffer[] };
}

/** Reads the expiry of each page's fields on both servers (one pipeline each) and notes the gaps. */
async function comparePages(
  ctx: EvaluateContext,
  pages: { key: Buffer; fields: Buffer[]; gaps: FieldGap[] }[],
): Promise<void> {
  if (pages.length === 0) return;
  const reads = pages.map((p) => fieldExpiryReads(p.key, p.fields));
  const flat = reads.flat();
  const [sa, ta] = await Promise.all([ctx.source.exec(flat), ctx.target.exec(flat)]);
  let at = 0;
  pages.forEach((p, j) => {
    const n = reads[j]!.length;
    let source: number[];
    let target: number[];
    try {
      source = parseFieldExpiries(sa.slice(at, at + n), p.fields.length);
      target = parseFieldExpiries(ta.slice(at, at + n), p.fields.length);
    } catch {
      return; // changed type meanwhile: the key comparison sees it
    } finally {
      at += n;
    }
    p.fields.forEach((field, k) => {
      const detail = fieldGap(source[k]!, target[k]!, ctx.expiry, ctx.ttlToleranceMs);
      if (detail) p.gaps.push({ field, detail });
    });
  });
}

/** The pages of a big hash after the first, one at a time (memory stays bounded). */
async function restOfHash(ctx: EvaluateContext, key: Buffer, from: string, gaps: FieldGap[]): Promise<void> {
  let cursor = from;
  while (cursor !== '0') {
    const [reply] = await ctx.source.exec([['HSCAN', key, cursor, 'COUNT', ctx.chunkSize, 'NOVALUES']]);
    const page = parsePage(reply);
    if (!page) return;
    cursor = page.cursor;
    if (page.fields.length > 0) await comparePages(ctx, [{ key, fields: page.fields, gaps }]);
  }
}

function summarize(gaps: FieldGap[]): Difference | null {
  if (gaps.length === 0) return null;
  const first = gaps[0]!;
  const more = gaps.length > 1 ? ` (and ${gaps.length - 1} more field${gaps.length === 2 ? '' : 's'})` : '';
  return { cls: 'field-ttl', detail: `field "${printableKey(first.field)}" ${first.detail}${more}` };
}

function formatMs(ms: number): string {
  return ms < 10_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * How one field's expiry differs (absolute ms on each server's clock; -1 persistent, -2 gone),
 * or undefined when it does not. A field gone on one side is the value comparison's business.
 */
export function fieldGap(
  source: number,
  target: number,
  clock: ExpiryClock,
  toleranceMs: number,
): string | undefined {
  if (source === -2 || target === -2 || (source === -1 && target === -1)) return undefined;
  if (target === -1) return 'has a TTL on the source and is persistent on the target';
  if (source === -1) return 'is persistent on the source and has a TTL on the target';
  const ahead = clock.kind === 'absolute' ? clock.targetAheadMs : 0;
  const uncertainty = clock.kind === 'absolute' ? clock.uncertaintyMs : 0;
  const onSourceClock = target - ahead;
  const gap = Math.max(0, Math.abs(onSourceClock - source) - uncertainty);
  if (gap <= toleranceMs) return undefined;
  const when = onSourceClock > source ? 'later' : 'earlier';
  return `expires ${formatMs(gap)} ${when} on the target (tolerance ${toleranceMs} ms)`;
}
