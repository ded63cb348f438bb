// Compares a batch of keys on both servers: existence, type, TTL and value.
//
// Per key and server, one pipeline round reads the expiry (PEXPIRETIME, or PTTL on servers before
// 7.0; see expiry.ts; none while both databases are proven to have no TTL: expiry-facts.ts) + DUMP (or + TYPE when payloads are not comparable). Before it, when the size probe is on (see copy/size-probe.ts), MEMORY USAGE on the
// source keeps big keys from being dumped whole (they are compared chunk by chunk instead). Either
// way DUMP replies are read under a byte cap: a payload over it is drained unread and that key is
// compared by type, chunk by chunk. The Redis type comes from the payload's first byte, so no
// TYPE is needed. Equal payloads of the same RDB version prove the values equal. Unequal ones
// prove nothing: sets and hashes in hash-table encoding serialize in an order set by each
// server's random hash seed, and encodings depend on history and config. So every payload
// mismatch is settled type-aware:
// hash-table sets/hashes by decoding both payloads here, everything else by reading the key by
// type on both servers (whole when small, chunked into digests when big).

import { bracketProvesNoExpiry, EXPIRY_FACT_COMMANDS } from '../expiry-facts.js';
import type { RespConnection } from '../resp/connection.js';
import { CommandEncoder, commandTemplate } from '../resp/encoder.js';
import { RespError, type RespReply, SkippedBulk } from '../resp/reply.js';
import { compareViews } from './compare-views.js';
import {
  absoluteReading,
  type ExpiryClock,
  type ExpiryReading,
  expiryGap,
  localNow,
  relativeReading,
  serverTimeMs,
} from './expiry.js';
import { compareFieldTtls } from './field-ttls.js';
import { decodeUnorderedPayload, payloadType, payloadVersion } from './rdb.js';
import { type ReadItem, readValues, type ValueView } from './read-value.js';
import type { DifferenceClass } from './types.js';
import { compareVectorSets } from './vector-set.js';

export interface SideState {
  exists: boolean;
  /** TYPE name ('none' when missing). */
  type: string;
  /** ttl.pttl: -2 missing, -1 persistent, else about how many ms are left. */
  ttl: ExpiryReading;
  /** DUMP payload (dump mode only). */
  payload: Buffer | null;
  /** Known to be big (MEMORY USAGE over the threshold, or its DUMP drained): read in chunks only. */
  big?: boolean;
}

export interface Difference {
  cls: DifferenceClass;
  detail: string;
}

/** A key that differs: its position in the batch and what differs. */
export interface KeyOutcome {
  index: number;
  key: Buffer;
  diffs: Difference[];
}

/** Shared, mutable: how values are compared, and what has been seen so far. */
export interface CompareState {
  mode: 'dump' | 'digest';
  /** Switch to digest mode when the two servers turn out to write different RDB versions. */
  auto: boolean;
  versions: { source: number | null; target: number | null };
  byPayload: number;
  byType: number;
  /** Ask MEMORY USAGE before DUMP (off when the servers refuse it). */
  checkSizes: boolean;
  /** Why dump mode was left (or size checks turned off), for the log. */
  switchedBecause?: string;
}

export interface EvaluateContext {
  source: RespConnection;
  target: RespConnection;
  state: CompareState;
  ttlToleranceMs: number;
  /** How expiry times are read and put on one clock (see expiry.ts). */
  expiry: ExpiryClock;
  chunkSize: number;
  /** Keys using more memory than this are compared chunk by chunk, never dumped whole. */
  bigKeyBytes: number;
  /** DUMP payload bytes read at once per batch and server (grouped by MEMORY USAGE, and capped). */
  groupBytes: number;
  /**
   * Neither database had a key with a TTL when its pass began: expiries are not read as long as
   * both servers' expiry facts around each page prove none was needed (expiry-facts.ts); unset at
   * the first page where they do not.
   */
  noExpiringKeys?: { sourceDb: number; targetDb: number } | undefined;
}

const PTTL = commandTemplate(['PTTL'], 1);
const PEXPIRETIME = commandTemplate(['PEXPIRETIME'], 1);
const DUMP = commandTemplate(['DUMP'], 1);
const TYPE = commandTemplate(['TYPE'], 1);
const MEMORY_USAGE = commandTemplate(['MEMORY', 'USAGE'], 1);

/** DUMP refused (ACL, renamed command): compare by type instead. */
class DumpUnavailableError extends Error {}

function expiryOf(reply: RespReply | undefined, command: string, where: string): number {
  if (typeof reply === 'number') return reply;
  if (reply instanceof RespError) throw new Error(`${command} on the ${where} failed: ${reply.message}`);
  return -2;
}

/** Encodes each batch once, for both servers. */
const encoder = new CommandEncoder();

/** Expiry readings of keys in a database proven to have none (the objects are shared, never changed). */
const PERSISTENT: ExpiryReading = { pttl: -1, earliest: 0, latest: 0 };
const MISSING: ExpiryReading = { pttl: -2, earliest: 0, latest: 0 };

interface StateCommands {
  chunks: Buffer[];
  count: number;
  /** Without expiries: DUMP/TYPE only, bracketed by the expiry facts (EXPIRY_FACT_COMMANDS). */
  noExpiry: boolean;
}

/**
 * Expiry + DUMP per key, or expiry + TYPE for keys not dumped (digest mode, big keys). In absolute
 * mode a TIME at the end gives each server's clock right after it read the page. `noExpiry`: no
 * expiry per key, the page between the two looks at the expiry facts instead.
 */
function stateCommands(
  keys: readonly Buffer[],
  dumped: (i: number) => boolean,
  clock: ExpiryClock,
  noExpiry: boolean,
): StateCommands {
  if (noExpiry) {
    for (const look of EXPIRY_FACT_COMMANDS) encoder.push(look);
    for (let i = 0; i < keys.length; i++) encoder.pushTemplate(dumped(i) ? DUMP : TYPE, keys[i]!);
    for (const look of EXPIRY_FACT_COMMANDS) encoder.push(look);
    return { chunks: encoder.take(), count: keys.length + 2 * EXPIRY_FACT_COMMANDS.length, noExpiry };
  }
  const expiry = clock.kind === 'absolute' ? PEXPIRETIME : PTTL;
  for (let i = 0; i < keys.length; i++) {
    encoder.pushTemplate(expiry, keys[i]!);
    encoder.pushTemplate(dumped(i) ? DUMP : TYPE, keys[i]!);
  }
  if (clock.kind === 'absolute') encoder.push(['TIME']);
  return {
    chunks: encoder.take(),
    count: keys.length * 2 + (clock.kind === 'absolute' ? 1 : 0),
    noExpiry,
  };
}

/**
 * Runs the state commands on one server; DUMP replies beyond `maxBytes` are drained and those
 * keys get their type from TYPE instead. Null when the commands skip expiries and the expiry
 * facts of database `db` around them do not prove that was right.
 */
async function fetchStates(
  conn: RespConnection,
  keys: readonly Buffer[],
  commands: StateCommands,
  dumped: (i: number) => boolean,
  maxBytes: number,
  clock: ExpiryClock,
  where: 'source' | 'target',
  db: number,
): Promise<SideState[] | null> {
  const n = keys.length;
  const sent = localNow();
  const replies = await conn.execChunks(commands.count, commands.chunks, maxBytes);
  const received = localNow();
  const { noExpiry } = commands;
  if (noExpiry && !bracketProvesNoExpiry(replies, n, db)) return null;
  // Key i's DUMP/TYPE reply: after the first look, or after its expiry.
  const valueAt = noExpiry ? EXPIRY_FACT_COMMANDS.length : 1;
  const stride = noExpiry ? 1 : 2;
  let reading: (expiry: number) => ExpiryReading;
  // Without expiries no TIME was asked and no reading is made.
  if (!noExpiry && clock.kind === 'absolute') {
    const serverNow = serverTimeMs(replies[2 * n]);
    if (serverNow === null) throw new Error(`TIME on the ${where}: unexpected reply`);
    reading = (expiry) => absoluteReading(expiry, serverNow, where, clock);
  } else {
    reading = (expiry) => relativeReading(expiry, sent, received);
  }
  const expiryCommand = clock.kind === 'absolute' ? 'PEXPIRETIME' : 'PTTL';
  const states: SideState[] = new Array(n);
  const unknownType: number[] = [];
  for (let i = 0; i < n; i++) {
    let ttl = noExpiry ? PERSISTENT : reading(expiryOf(replies[2 * i], expiryCommand, where));
    const reply = replies[valueAt + stride * i]!;
    const dump = dumped(i);
    if (reply instanceof RespError) {
      if (dump) throw new DumpUnavailableError(`DUMP on the ${where}: ${reply.message}`);
      throw new Error(`TYPE on the ${where} failed: ${reply.message}`);
    }
    if (reply instanceof SkippedBulk) {
      // Too big to hold: compared by type, chunk by chunk.
      states[i] = { exists: true, type: '?', ttl, payload: null, big: true };
      unknownType.push(i);
    } else if (dump) {
      const payload = Buffer.isBuffer(reply) ? reply : null;
      const type = payload ? payloadType(payload) : 'none';
      if (!payload && noExpiry) ttl = MISSING;
      states[i] = { exists: payload !== null, type: type ?? '?', ttl, payload };
      if (payload && type === undefined) unknownType.push(i);
    } else {
      const type = typeof reply === 'string' ? reply : Buffer.isBuffer(reply) ? reply.toString() : 'none';
      if (type === 'none' && noExpiry) ttl = MISSING;
      states[i] = { exists: type !== 'none', type, ttl, payload: null };
    }
  }
  if (unknownType.length > 0) {
    // Module types and encodings newer than this code, and skipped payloads: ask the server.
    const types = await conn.exec(unknownType.map((i) => ['TYPE', keys[i]!]));
    unknownType.forEach((i, j) => {
      const t = types[j];
      const state = states[i]!;
      state.type = typeof t === 'string' ? t : Buffer.isBuffer(t) ? t.toString() : 'unknown';
      if (state.type === 'none') {
        state.exists = false; // deleted since its DUMP
        if (noExpiry) state.ttl = MISSING;
      }
    });
  }
  return states;
}

/**
 * MEMORY USAGE of each key on the source, or null when it does not tell (MEMORY refused: then
 * sizes are not checked again). Only the source is asked: it halves the cost of the check, and a
 * key that is small on the source but huge on the target is a corrupt target, not the usual case.
 */
async function keySizes(ctx: EvaluateContext, keys: readonly Buffer[]): Promise<number[] | null> {
  const replies = await ctx.source.execEncoded(keys.length, (enc) => {
    for (const k of keys) enc.pushTemplate(MEMORY_USAGE, k);
  });
  const sizes: number[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const reply = replies[i];
    if (reply instanceof RespError) {
      ctx.state.checkSizes = false;
      ctx.state.switchedBecause ??= `MEMORY USAGE refused on the source (${reply.message}): big keys are not detected before DUMP`;
      return null;
    }
    sizes[i] = typeof reply === 'number' ? reply : 0;
  }
  return sizes;
}

function formatTtl(ms: number): string {
  if (ms < 10_000) return `${ms} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * TTL difference between the source's and the target's expiry, if any: expiring keys differ only
 * when their expiry windows (see expiry.ts) are more than the tolerance apart.
 */
export function ttlDifference(
  source: ExpiryReading,
  target: ExpiryReading,
  toleranceMs: number,
): Difference | null {
  if (source.pttl === -1 && target.pttl === -1) return null;
  if (source.pttl === -1)
    return {
      cls: 'persistence',
      detail: `persistent on the source, expires in ${formatTtl(target.pttl)} on the target`,
    };
  if (target.pttl === -1)
    return {
      cls: 'persistence',
      detail: `expires in ${formatTtl(source.pttl)} on the source, persistent on the target`,
    };
  const gap = expiryGap(source, target);
  if (gap > toleranceMs) {
    const when = target.earliest > source.latest ? 'later' : 'earlier';
    return {
      cls: 'ttl',
      detail:
        `TTL ${formatTtl(source.pttl)} vs ${formatTtl(target.pttl)}: expires at least ` +
        `${formatTtl(Math.round(gap))} ${when} on the target (tolerance ${toleranceMs} ms)`,
    };
  }
  return null;
}

function describe(state: SideState): string {
  return state.ttl.pttl >= 0 ? `${state.type}, expires in ${formatTtl(state.ttl.pttl)}` : state.type;
}

/**
 * Type, PTTL and (dump mode) payload of each key on both servers. With size checks on, MEMORY
 * USAGE comes first: keys above the threshold are not dumped (they are compared chunk by chunk),
 * and the rest are dumped in groups of bounded total size.
 */
async function fetchBothSides(
  ctx: EvaluateContext,
  keys: readonly Buffer[],
): Promise<[SideState[], SideState[]]> {
  const { state } = ctx;
  const fetch = async (
    subset: readonly Buffer[],
    dumped: (i: number) => boolean,
    maxBytes: number,
  ): Promise<[SideState[], SideState[]]> => {
    const dbs = ctx.noExpiringKeys;
    const both = (commands: StateCommands) =>
      Promise.all([
        fetchStates(ctx.source, subset, commands, dumped, maxBytes, ctx.expiry, 'source', dbs?.sourceDb ?? 0),
        fetchStates(ctx.target, subset, commands, dumped, maxBytes, ctx.expiry, 'target', dbs?.targetDb ?? 0),
      ]);
    if (dbs) {
      const [a, b] = await both(stateCommands(subset, dumped, ctx.expiry, true));
      if (a && b) return [a, b];
      // A TTL appeared (or a key expired) on either side: this page again, and every later one, with expiries.
      ctx.noExpiringKeys = undefined;
    }
    const [a, b] = await both(stateCommands(subset, dumped, ctx.expiry, false));
    return [a!, b!];
  };
  const sizes = state.checkSizes ? await keySizes(ctx, keys) : null;
  if (state.mode !== 'dump') {
    // Nothing is dumped; the sizes only tell which keys to read in chunks from the start.
    const [a, b] = await fetch(keys, () => false, ctx.groupBytes);
    if (sizes) {
      for (let i = 0; i < a.length; i++) if (sizes[i]! > ctx.bigKeyBytes) a[i]!.big = b[i]!.big = true;
    }
    return [a, b];
  }
  if (!sizes) return fetch(keys, () => true, ctx.groupBytes);
  const source: SideState[] = [];
  const target: SideState[] = [];
  for (let start = 0; start < keys.length; ) {
    let end = start;
    let bytes = 0;
    while (end < keys.length && (end === start || bytes + sizes[end]! <= ctx.groupBytes))
      bytes += sizes[end++]!;
    // The cap also catches what MEMORY USAGE underestimates (it samples big collections).
    const dumped = (i: number) => sizes[start + i]! <= ctx.bigKeyBytes;
    const [a, b] = await fetch(keys.slice(start, end), dumped, Math.max(ctx.groupBytes, 2 * bytes));
    for (let i = 0; i < a.length; i++) {
      if (!dumped(i)) a[i]!.big = b[i]!.big = true;
    }
    source.push(...a);
    target.push(...b);
    start = end;
  }
  return [source, target];
}

/**
 * Compares these keys (of the currently selected db) on both servers. Returns the keys that
 * differ; keys equal on both sides, or gone from both, are not listed.
 */
export async function evaluateKeys(ctx: EvaluateContext, keys: readonly Buffer[]): Promise<KeyOutcome[]> {
  if (keys.length === 0) return [];
  const { state } = ctx;
  let source: SideState[];
  let target: SideState[];
  try {
    [source, target] = await fetchBothSides(ctx, keys);
  } catch (err) {
    if (!(err instanceof DumpUnavailableError) || state.mode !== 'dump') throw err;
    state.mode = 'digest';
    state.switchedBecause = err.message;
    return evaluateKeys(ctx, keys);
  }

  // Sparse: only keys with a difference get an entry.
  const found: (Difference[] | undefined)[] = new Array(keys.length);
  const settle: number[] = [];
  for (let i = 0; i < keys.length; i++) {
    const a = source[i]!;
    const b = target[i]!;
    if (!a.exists && !b.exists) continue;
    // About to expire on the side that still has it: the other side may have expired it already.
    if (!a.exists && b.ttl.pttl >= 0 && b.ttl.pttl <= ctx.ttlToleranceMs) continue;
    if (!b.exists && a.ttl.pttl >= 0 && a.ttl.pttl <= ctx.ttlToleranceMs) continue;
    if (!a.exists) {
      found[i] = [{ cls: 'extra', detail: `only on the target (${describe(b)})` }];
      continue;
    }
    if (!b.exists) {
      found[i] = [{ cls: 'missing', detail: `not on the target (${describe(a)})` }];
      continue;
    }
    if (a.type !== b.type) {
      found[i] = [{ cls: 'type', detail: `${a.type} on the source, ${b.type} on the target` }];
      continue;
    }
    if (a.ttl.pttl === -2 || b.ttl.pttl === -2) {
      // Gone between PTTL and DUMP/TYPE on one side: look again later.
      found[i] = [{ cls: 'value', detail: 'changed while being compared' }];
      continue;
    }
    const ttl = ttlDifference(a.ttl, b.ttl, ctx.ttlToleranceMs);
    if (ttl) found[i] = [ttl];
    if (a.payload && b.payload) {
      const va = payloadVersion(a.payload);
      const vb = payloadVersion(b.payload);
      state.versions.source ??= va;
      state.versions.target ??= vb;
      if (va === vb) {
        if (a.payload.equals(b.payload)) {
          state.byPayload++;
          continue;
        }
      } else if (state.auto && state.mode === 'dump') {
        state.mode = 'digest';
        state.switchedBecause = `the source writes RDB version ${va} and the target ${vb}`;
      }
    }
    settle.push(i);
  }
  if (settle.length > 0) await settleValues(ctx, keys, source, target, settle, found);
  // Equal payloads carry equal field TTLs; the other hashes are compared field by field.
  await compareFieldTtls(
    ctx,
    keys,
    settle.filter((i) => source[i]!.type === 'hash'),
    found,
  );
  const outcomes: KeyOutcome[] = [];
  for (let i = 0; i < keys.length; i++) {
    const diffs = found[i];
    if (diffs) outcomes.push({ index: i, key: keys[i]!, diffs });
  }
  return outcomes;
}

/** Type-aware comparison of keys whose payloads did not prove them equal (or were not read). */
async function settleValues(
  ctx: EvaluateContext,
  keys: readonly Buffer[],
  source: SideState[],
  target: SideState[],
  indexes: number[],
  found: (Difference[] | undefined)[],
): Promise<void> {
  const remaining: number[] = [];
  for (const i of indexes) {
    if (source[i]!.type === 'vectorset') {
      // Read on both servers at once, element by element (see vector-set.ts).
      record(ctx, found, i, await compareVectorSets(ctx.source, ctx.target, keys[i]!, ctx.chunkSize));
      continue;
    }
    const a = source[i]!.payload;
    const b = target[i]!.payload;
    const da = a && decodeUnorderedPayload(a);
    const db = b && decodeUnorderedPayload(b);
    if (da && db && da.type === db.type) {
      const va: ValueView =
        da.type === 'set'
          ? { kind: 'full', type: 'set', items: da.members }
          : { kind: 'full', type: 'hash', entries: da.entries };
      const vb: ValueView =
        db.type === 'set'
          ? { kind: 'full', type: 'set', items: db.members }
          : { kind: 'full', type: 'hash', entries: db.entries };
      record(ctx, found, i, compareViews(va, vb));
    } else {
      remaining.push(i);
    }
  }
  if (remaining.length === 0) return;
  // Both sides read a big key the same way: in chunks from the start, never in the first pipeline.
  const items = (side: SideState[]): ReadItem[] =>
    remaining.map((i) => ({
      key: keys[i]!,
      type: side[i]!.type,
      big: Boolean(source[i]!.big || target[i]!.big),
    }));
  const [va, vb] = await Promise.all([
    readValues(ctx.source, items(source), ctx.chunkSize, 'source'),
    readValues(ctx.target, items(target), ctx.chunkSize, 'target'),
  ]);
  remaining.forEach((i, j) => {
    record(ctx, found, i, compareViews(va[j]!, vb[j]!));
  });
}

function record(
  ctx: EvaluateContext,
  found: (Difference[] | undefined)[],
  i: number,
  result: ReturnType<typeof compareViews>,
): void {
  ctx.state.byType++;
  if (result.equal) return;
  const diff: Difference = { cls: 'value', detail: result.detail };
  const existing = found[i];
  if (existing) existing.push(diff);
  else found[i] = [diff];
}
