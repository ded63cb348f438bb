// Compares the per-field TTLs of hashes (HPEXPIRE: Redis >= 7.4, Valkey >= 9) where both servers
// have them. Equal DUMP payloads carry equal field TTLs (they hold the absolute times), so only
// hashes whose payloads did not prove them equal come here. The source's fields are walked with
// HSCAN, a page at a time (memory stays bounded whatever the hash's size), and HPEXPIRETIME is
// read for that page on both sides. Times are put on one clock with the offset verify measured
// (expiry.ts) and compared with the same tolerance as key TTLs. A field on one side only is a
// value difference, found by the value comparison; this reports 'field-ttl' only.
import { printableKey } from '../../probe/printable-key.js';
import type { RespConnection } from '../resp/connection.js';
import { RespError, replyText } from '../resp/reply.js';
import { fieldExpiryReads, hashFields, parseFieldExpiries, supportsFieldTtls } from '../types/field-ttls.js';
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

/** Hashes compared at once (each takes a few round trips per page of fields). */
const PARALLEL = 8;

/**
 * Adds a 'field-ttl' difference to `found[i]` for each hash `keys[i]` (i in `hashes`) whose field
 * TTLs differ, when both servers have field TTLs.
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
  const queue = [...hashes];
  const worker = async () => {
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
      const diff = await hashFieldTtlDifference(ctx, keys[i]!);
      if (!diff) continue;
      const existing = found[i];
      if (existing) existing.push(diff);
      else found[i] = [diff];
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, worker));
}

interface FieldGap {
  field: Buffer;
  detail: string;
}

async function hashFieldTtlDifference(ctx: EvaluateContext, key: Buffer): Promise<Difference | null> {
  const gaps: FieldGap[] = [];
  let cursor = '0';
  do {
    const [page] = await ctx.source.exec([['HSCAN', key, cursor, 'COUNT', ctx.chunkSize]]);
    // Gone or retyped meanwhile: the key comparison says so (and re-checks).
    if (page instanceof RespError || !Array.isArray(page) || !Array.isArray(page[1])) return null;
    cursor = replyText(page[0]) ?? '0';
    const fields = hashFields(page[1] as Buffer[]);
    if (fields.length === 0) continue;
    const reads = fieldExpiryReads(key, fields);
    const [sa, ta] = await Promise.all([ctx.source.exec(reads), ctx.target.exec(reads)]);
    let source: number[];
    let target: number[];
    try {
      source = parseFieldExpiries(sa, fields.length);
      target = parseFieldExpiries(ta, fields.length);
    } catch {
      return null;
    }
    fields.forEach((field, j) => {
      const detail = fieldGap(source[j]!, target[j]!, ctx.expiry, ctx.ttlToleranceMs);
      if (detail) gaps.push({ field, detail });
    });
  } while (cursor !== '0');
  if (gaps.length === 0) return null;
  const first = gaps[0]!;
  const more = gaps.length > 1 ? ` (and ${gaps.length - 1} more field${gaps.length === 2 ? '' : 's'})` : '';
  return {
    cls: 'field-ttl',
    detail: `field "${printableKey(first.field)}" ${first.detail}${more}`,
  };
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
