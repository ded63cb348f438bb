// Copies keys with native commands (no DUMP/RESTORE): for targets that reject the source's
// payloads (older RDB version, forks) and for mode 'by-type'. Each key is rewritten inside
// MULTI/EXEC (DEL, writes, PEXPIRE), so the target never shows a half-written key or a key that
// should expire without its TTL, even if the copier dies in the middle. Strings need no
// transaction: SET ... PX does all of it at once. Hashes get their field TTLs (HPEXPIREAT) in the
// same transaction, or are refused where the target cannot hold them (field-ttls.ts).
import type { CommandRunner } from '../resp/connection.js';
import { type RespArg, RespError, type RespReply } from '../resp/reply.js';
import { hashFields } from '../types/field-ttls.js';
import { type KeyRead, readKeys } from '../types/read.js';
import { isNativeType, valueBytes } from '../types/value.js';
import { valueWriteCommands } from '../types/write.js';
import { type BatchContext, type BatchResult, KeyCopyError, keyError } from './context.js';
import { FatalReplyError, fatalKind } from './errors.js';
import { type HashFieldTtls, hashFieldTtls } from './field-ttls.js';

/**
 * Copies these (non-big) keys by type. Missing or expired keys are skipped (deleted on the target
 * with deleteMissing). Adds to `result`; throws only for fatal replies or broken connections.
 */
export async function copyByType(
  src: CommandRunner,
  dst: CommandRunner,
  keys: Buffer[],
  ctx: BatchContext,
  result: BatchResult,
): Promise<void> {
  if (keys.length === 0) return;
  const sentAt = performance.now();
  const reads = await readKeys(src, keys);
  for (const r of reads) {
    const fatal = r.error ? sourceFatal(r.error) : null;
    if (fatal) throw fatal;
  }
  const fieldTtls = await readHashFieldTtls(src, reads, ctx);
  const cmds: RespArg[][] = [];
  const spans: {
    key: Buffer;
    start: number;
    end: number;
    bytes: number;
    deleteOnly: boolean;
    fieldTtlsDropped?: number;
  }[] = [];
  const elapsed = Math.ceil(performance.now() - sentAt);
  for (const r of reads) {
    if (r.error) {
      keyError(result, ctx.db, r.key, r.error);
      continue;
    }
    if (r.type !== 'none' && !isNativeType(r.type)) {
      keyError(
        result,
        ctx.db,
        r.key,
        `type ${r.type} (a module type) has no native-command copy; the target must accept its DUMP payload`,
      );
      continue;
    }
    const ttl = r.pttl > 0 ? r.pttl - elapsed : -1;
    if (r.value === null || r.pttl === -2 || r.pttl === 0 || (r.pttl > 0 && ttl < 1)) {
      result.keysSkipped++;
      if (ctx.deleteMissing) {
        spans.push({ key: r.key, start: cmds.length, end: cmds.length + 1, bytes: 0, deleteOnly: true });
        cmds.push(['DEL', r.key]);
      }
      continue;
    }
    const start = cmds.length;
    if (r.value.type === 'string') {
      // SET replaces any value and TTL in one atomic command: no transaction needed.
      cmds.push(ttl > 0 ? ['SET', r.key, r.value.value, 'PX', ttl] : ['SET', r.key, r.value.value]);
      spans.push({ key: r.key, start, end: cmds.length, bytes: r.value.value.length, deleteOnly: false });
      continue;
    }
    const fields = fieldTtls.get(r);
    if (fields?.refusal) {
      keyError(result, ctx.db, r.key, fields.refusal);
      continue;
    }
    cmds.push(['MULTI'], ['DEL', r.key], ...valueWriteCommands(r.key, r.value, ctx.features));
    if (fields) cmds.push(...fields.writes);
    if (ttl > 0) cmds.push(['PEXPIRE', r.key, ttl]);
    cmds.push(['EXEC']);
    spans.push({
      key: r.key,
      start,
      end: cmds.length,
      bytes: valueBytes(r.value),
      deleteOnly: false,
      ...(fields?.dropped ? { fieldTtlsDropped: fields.dropped } : {}),
    });
  }
  if (cmds.length === 0) return;
  const replies = await dst.exec(cmds);
  for (const span of spans) {
    try {
      checkTransaction(replies.slice(span.start, span.end));
    } catch (err) {
      if (err instanceof KeyCopyError) {
        keyError(result, ctx.db, span.key, err.message);
        continue;
      }
      throw err;
    }
    if (span.deleteOnly) {
      result.keysDeleted++;
      continue;
    }
    result.keysCopied++;
    result.keysByTypeFallback++;
    result.bytesCopied += span.bytes;
    if (span.fieldTtlsDropped)
      result.fieldTtlsDropped = (result.fieldTtlsDropped ?? 0) + span.fieldTtlsDropped;
  }
}

/** Field TTLs of the hashes read (none when the source has no field TTLs). */
async function readHashFieldTtls(
  src: CommandRunner,
  reads: KeyRead[],
  ctx: BatchContext,
): Promise<Map<KeyRead, HashFieldTtls>> {
  const out = new Map<KeyRead, HashFieldTtls>();
  if (!ctx.fieldTtls.read) return out;
  const hashes = reads.filter((r) => !r.error && r.value?.type === 'hash');
  const found = await hashFieldTtls(
    src,
    hashes.map((r) => {
      const fields = hashFields((r.value as { entries: Buffer[] }).entries);
      return { source: r.key, target: r.key, fields };
    }),
    ctx.fieldTtls,
  );
  hashes.forEach((r, i) => {
    out.set(r, found[i]!);
  });
  return out;
}

function sourceFatal(message: string): FatalReplyError | null {
  const kind = fatalKind(new RespError(message));
  return kind === 'unavailable' ? new FatalReplyError('source', kind, message) : null;
}

/**
 * Checks the replies of MULTI ... EXEC (or of plain commands): a fatal error (OOM, not writable)
 * throws FatalReplyError; any other error throws KeyCopyError with the first error's text.
 */
export function checkTransaction(replies: RespReply[]): void {
  // Queued-command errors come before EXEC's EXECABORT, so the first error is the real reason.
  let firstError: RespError | undefined;
  for (const reply of replies) {
    if (Array.isArray(reply)) {
      for (const inner of reply) firstError = noteError(inner, firstError);
    } else firstError = noteError(reply, firstError);
  }
  if (firstError) throw new KeyCopyError(firstError.message);
}

function noteError(reply: RespReply, first: RespError | undefined): RespError | undefined {
  if (!(reply instanceof RespError)) return first;
  const kind = fatalKind(reply);
  if (kind) throw new FatalReplyError('target', kind, reply.message);
  return first ?? reply;
}
