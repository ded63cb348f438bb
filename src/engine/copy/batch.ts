// One batch of keys (a SCAN page, or a key set from live sync) copied source -> target:
//   1. with the size probe on, MEMORY USAGE for every key (pipelined): missing keys are skipped,
//      big ones set aside, the rest grouped so each group takes its estimated bytes from the
//      shared budget; with it off, the whole batch takes a fixed share of the budget;
//   2. DUMP + PTTL, then RESTORE ... REPLACE pipelined on the target. DUMP replies are read under
//      a byte cap (the bytes granted): a payload over it is drained unread, and its key, now of
//      known size, goes round again in a group of its own size, or to the big-key path;
//   3. keys whose payload the target rejects are copied by type; big keys in chunks.
//
// TTLs: RESTORE takes a relative TTL and 0 means "no TTL", so a key is never restored with 0.
// DUMP nil or PTTL -2 (gone between SCAN and DUMP, or right after DUMP) and PTTL 0 (expires this
// millisecond) are skipped and counted. A positive PTTL is reduced by the time the payload spent
// in the copier (measured locally, so no clock agreement between hosts is needed); if nothing is
// left the key expired in transit and is skipped, never restored without its TTL. The time is
// counted from when DUMP/PTTL were sent (an upper bound of the read side's share), so a copy
// outlives its source at most by the time its RESTORE waits in the target's queue; relative TTLs
// need no clock agreement between hosts, which ABSTTL would.
import { type CommandRunner, RespConnection } from '../resp/connection.js';
import { commandTemplate } from '../resp/encoder.js';
import { RespError, SkippedBulk } from '../resp/reply.js';
import { copyBigKey } from './big-key.js';
import { copyByType } from './by-type.js';
import { type BatchContext, type BatchResult, emptyResult, keyError } from './context.js';
import { payloadRdbVersion } from './dump-payload.js';
import { FatalReplyError, fatalKind, isPayloadRejection } from './errors.js';

/** Keys of a batch are read in groups of about this many estimated bytes. */
const GROUP_BYTES = 4 * 1024 * 1024;
/** Size assumed for a key when MEMORY USAGE is not available. */
const UNKNOWN_SIZE = 1024;
/** After this many rejections and no success, payloads of that RDB version go straight to by-type. */
const REJECTIONS_BEFORE_SKIPPING = 8;
/**
 * A group's DUMP replies may hold this much more than its estimate before the rest are drained:
 * MEMORY USAGE samples big collections, and a key may grow between the probe and its DUMP.
 */
const CAP_SLACK = 1024 * 1024;

const MEMORY_USAGE = commandTemplate(['MEMORY', 'USAGE'], 1);
const DUMP = commandTemplate(['DUMP'], 1);
const PTTL = commandTemplate(['PTTL'], 1);
const RESTORE_REPLACE = commandTemplate(['RESTORE'], 3, ['REPLACE']);

interface SizedKey {
  key: Buffer;
  size: number;
}

/**
 * Where a batch is written: one server's connection (pre-encoded pipelines), or any runner, such
 * as a cluster target that routes each key to its slot's node (engine/cluster/routed-runner.ts).
 */
export type BatchTarget = RespConnection | CommandRunner;

export async function copyBatch(
  src: RespConnection,
  dst: BatchTarget,
  keys: Buffer[],
  ctx: BatchContext,
): Promise<BatchResult> {
  const result = emptyResult();
  if (keys.length === 0) return result;
  const big: Buffer[] = [];
  let again: SizedKey[];
  // By-type reads are not capped: that mode measures first (copy-keys turns the probe on for it).
  if (ctx.sizeProbe) {
    const sizes = await keySizes(src, keys, ctx);
    const small: SizedKey[] = [];
    const missing: Buffer[] = [];
    keys.forEach((key, i) => {
      const size = sizes[i];
      if (size === null) missing.push(key);
      else if (size === undefined) small.push({ key, size: UNKNOWN_SIZE });
      else if (size > ctx.bigKeyThreshold) big.push(key);
      else small.push({ key, size });
    });
    if (missing.length > 0) await skipMissing(dst, missing, ctx, result);
    again = await copySized(src, dst, small, ctx, result, big);
  } else {
    const granted = await ctx.budget.acquire(ctx.unsizedBatchBytes);
    try {
      again = await dumpRestore(src, dst, keys, ctx, result, big, granted);
    } finally {
      ctx.budget.release(granted);
    }
  }
  // Drained once for being over the cap, now measured: one more round with their own size; a key
  // that outgrows that too is copied in chunks.
  if (again.length > 0) {
    const still = await copySized(src, dst, again, ctx, result, big);
    big.push(...still.map((k) => k.key));
  }
  for (const key of big) await copyBigKey(src, dst, key, ctx, result);
  return result;
}

/** Groups keys by estimated size; each group reads under its share of the budget. */
async function copySized(
  src: RespConnection,
  dst: BatchTarget,
  sized: SizedKey[],
  ctx: BatchContext,
  result: BatchResult,
  big: Buffer[],
): Promise<SizedKey[]> {
  const groups: { keys: Buffer[]; bytes: number }[] = [];
  let current: { keys: Buffer[]; bytes: number } = { keys: [], bytes: 0 };
  for (const { key, size } of sized) {
    if (current.keys.length > 0 && current.bytes + size > GROUP_BYTES) {
      groups.push(current);
      current = { keys: [], bytes: 0 };
    }
    current.keys.push(key);
    current.bytes += size;
  }
  if (current.keys.length > 0) groups.push(current);

  const again: SizedKey[] = [];
  await Promise.all(
    groups.map(async (g) => {
      const granted = await ctx.budget.acquire(g.bytes);
      try {
        if (ctx.mode === 'by-type') await copyByType(src, dst, g.keys, ctx, result);
        else again.push(...(await dumpRestore(src, dst, g.keys, ctx, result, big, g.bytes + CAP_SLACK)));
      } finally {
        ctx.budget.release(granted);
      }
    }),
  );
  return again;
}

/**
 * MEMORY USAGE per key: a number, null when the key is missing, undefined when unknown
 * (MEMORY USAGE refused: renamed, ACL, or an old server).
 */
async function keySizes(
  src: RespConnection,
  keys: Buffer[],
  ctx: BatchContext,
): Promise<(number | null | undefined)[]> {
  if (!ctx.sizeProbe) return new Array(keys.length).fill(undefined);
  const replies = await src.execEncoded(keys.length, (enc) => {
    for (const k of keys) enc.pushTemplate(MEMORY_USAGE, k);
  });
  return replies.map((reply) => {
    if (typeof reply === 'number') return reply;
    if (reply === null) return null;
    if (reply instanceof RespError) {
      if (fatalKind(reply) === 'unavailable')
        throw new FatalReplyError('source', 'unavailable', reply.message);
      // Only a refused command turns the probe off; a key-level refusal (ACL key patterns)
      // just leaves that key's size unknown (its DUMP will say more).
      if (ctx.sizeProbe && /unknown (sub)?command|permissions to run/i.test(reply.message)) {
        ctx.sizeProbe = false;
        ctx.logger?.warn(
          { reply: reply.message },
          'MEMORY USAGE is not available on the source: big keys are detected by DUMP size only',
        );
      }
    }
    return undefined;
  });
}

async function skipMissing(
  dst: BatchTarget,
  keys: Buffer[],
  ctx: BatchContext,
  result: BatchResult,
): Promise<void> {
  result.keysSkipped += keys.length;
  if (!ctx.deleteMissing) return;
  const replies = await dst.exec(keys.map((k) => ['DEL', k]));
  replies.forEach((reply, i) => {
    if (reply instanceof RespError) {
      if (fatalKind(reply)) throw new FatalReplyError('target', fatalKind(reply)!, reply.message);
      keyError(result, ctx.db, keys[i]!, `DEL: ${reply.message}`);
    } else result.keysDeleted++;
  });
}

/**
 * DUMP + PTTL, then RESTORE REPLACE, keeping at most `maxBytes` of payloads. Keys too big for one
 * payload are added to `big`; returns the keys drained for being over `maxBytes`, with their size.
 */
async function dumpRestore(
  src: RespConnection,
  dst: BatchTarget,
  keys: Buffer[],
  ctx: BatchContext,
  result: BatchResult,
  big: Buffer[],
  maxBytes: number,
): Promise<SizedKey[]> {
  // TTLs are aged from when the read was sent: an upper bound of their time in the copier.
  const sentAt = performance.now();
  const reads = await src.execEncoded(
    keys.length * 2,
    (enc) => {
      for (const k of keys) {
        enc.pushTemplate(DUMP, k);
        enc.pushTemplate(PTTL, k);
      }
    },
    maxBytes,
  );
  const byType: Buffer[] = [];
  const drained: SizedKey[] = [];
  const gone: Buffer[] = [];
  const writes: { key: Buffer; payload: Buffer; pttl: number; version: number }[] = [];
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    let payload = reads[2 * i]!;
    const pttl = reads[2 * i + 1]!;
    if (payload instanceof RespError || pttl instanceof RespError) {
      const err = (payload instanceof RespError ? payload : pttl) as RespError;
      if (fatalKind(err) === 'unavailable') throw new FatalReplyError('source', 'unavailable', err.message);
      keyError(result, ctx.db, key, `DUMP: ${err.message}`);
      continue;
    }
    if (payload instanceof SkippedBulk) {
      if (tooBigForOnePayload(payload.length, ctx)) big.push(key);
      else drained.push({ key, size: payload.length });
      continue;
    }
    if (!Buffer.isBuffer(payload) || pttl === -2 || pttl === 0 || typeof pttl !== 'number') {
      gone.push(key);
      continue;
    }
    if (tooBigForOnePayload(payload.length, ctx)) {
      big.push(key);
      continue;
    }
    if (ctx.transformPayload) payload = ctx.transformPayload(key, payload);
    const version = payloadRdbVersion(payload) ?? 0;
    const seen = ctx.payloadVersions.get(version);
    if (seen && seen.ok === 0 && seen.rejected >= REJECTIONS_BEFORE_SKIPPING) {
      byType.push(key);
      continue;
    }
    writes.push({ key, payload, pttl, version });
  }

  const sent: typeof writes = [];
  const ttls: number[] = [];
  const elapsed = Math.ceil(performance.now() - sentAt);
  for (const w of writes) {
    let ttl = 0;
    if (w.pttl > 0) {
      ttl = w.pttl - elapsed;
      if (ttl < 1) {
        gone.push(w.key);
        continue;
      }
    }
    sent.push(w);
    ttls.push(ttl);
  }
  if (gone.length > 0) await skipMissing(dst, gone, ctx, result);
  if (sent.length > 0) {
    const replies =
      dst instanceof RespConnection
        ? await dst.execEncoded(sent.length, (enc) => {
            for (let i = 0; i < sent.length; i++)
              enc.pushTemplate(RESTORE_REPLACE, sent[i]!.key, ttls[i]!, sent[i]!.payload);
          })
        : await dst.exec(sent.map((w, i) => ['RESTORE', w.key, ttls[i]!, w.payload, 'REPLACE']));
    let seen: { ok: number; rejected: number } | undefined;
    let seenVersion = -1;
    for (let i = 0; i < sent.length; i++) {
      const reply = replies[i]!;
      const w = sent[i]!;
      if (w.version !== seenVersion) {
        seenVersion = w.version;
        seen = ctx.payloadVersions.get(w.version);
        if (!seen) {
          seen = { ok: 0, rejected: 0 };
          ctx.payloadVersions.set(w.version, seen);
        }
      }
      if (!(reply instanceof RespError)) {
        seen!.ok++;
        result.keysCopied++;
        result.bytesCopied += w.payload.length;
        continue;
      }
      const kind = fatalKind(reply);
      if (kind) throw new FatalReplyError('target', kind, reply.message);
      if (isPayloadRejection(reply) && ctx.mode === 'auto') {
        seen!.rejected++;
        byType.push(w.key);
        continue;
      }
      const hint = /bad data format/i.test(reply.message)
        ? ' (a module type the target does not have, or a newer encoding?)'
        : '';
      keyError(result, ctx.db, w.key, `RESTORE: ${reply.message}${hint}`);
    }
  }
  if (byType.length > 0) await copyByType(src, dst, byType, ctx, result);
  return drained;
}

/** Over the big-key threshold or the target's proto-max-bulk-len: copied in chunks instead. */
function tooBigForOnePayload(bytes: number, ctx: BatchContext): boolean {
  return bytes > ctx.maxPayload || bytes > ctx.bigKeyThreshold;
}
