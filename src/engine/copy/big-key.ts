// Big keys are copied in bounded chunks into a temporary key on the target, which then replaces
// the real key atomically (MULTI: RENAME + PEXPIRE/PERSIST). Copier memory stays at a couple of
// chunks whatever the key's size, no single command nears proto-max-bulk-len, and readers of the
// target never see a half-copied key.
//
// The temporary key name is derived from the key (so a resumed run overwrites its own leftovers)
// and carries a safety TTL, so an abandoned one disappears by itself.
import { createHash } from 'node:crypto';
import { keySlot } from '../cluster/slot.js';
import { slotTag } from '../cluster/slot-tag.js';
import type { CommandRunner } from '../resp/connection.js';
import { type RespArg, RespError, type RespReply, replyText } from '../resp/reply.js';
import { readChunks } from '../types/chunks.js';
import { TypeChangedError } from '../types/errors.js';
import { hashFields } from '../types/field-ttls.js';
import {
  emptyStreamCommands,
  pendingCommands,
  readPendingPages,
  readStreamMeta,
  streamMetaCommands,
} from '../types/stream.js';
import { isNativeType, valueBytes } from '../types/value.js';
import { chunkWriteCommands } from '../types/write.js';
import { checkTransaction } from './by-type.js';
import { type BatchContext, type BatchResult, KeyCopyError, keyError } from './context.js';
import { FatalReplyError, fatalKind } from './errors.js';
import { hashFieldTtls } from './field-ttls.js';

/** Temporary keys expire by themselves after this long without a new chunk. */
export const TEMP_KEY_TTL_MS = 60 * 60 * 1000;

/**
 * The temporary key of `key`: named after it, and with a hash tag of the same cluster slot, so on
 * a cluster target it lives on the key's node and RENAME onto the key is allowed.
 */
export function tempKeyFor(key: Buffer): Buffer {
  const tag = slotTag(keySlot(key));
  return Buffer.from(`migration-buddy:tmp:{${tag}}:${createHash('sha1').update(key).digest('hex')}`);
}

export async function copyBigKey(
  src: CommandRunner,
  dst: CommandRunner,
  key: Buffer,
  ctx: BatchContext,
  result: BatchResult,
): Promise<void> {
  const tmp = tempKeyFor(key);
  const write = async (cmds: RespArg[][]) => checkTransaction(await dst.exec(cmds));
  try {
    const [typeReply] = await src.exec([['TYPE', key]]);
    sourceCheck(typeReply!);
    const type = replyText(typeReply!) ?? 'none';
    if (type === 'none') return missing(dst, key, ctx, result);
    if (!isNativeType(type)) {
      keyError(
        result,
        ctx.db,
        key,
        `type ${type} (a module type) is too big to copy in one piece and cannot be chunked`,
      );
      return;
    }
    if (type === 'string') {
      // Redis caps a string at proto-max-bulk-len: a longer one cannot exist on the target at all.
      const [len] = await src.exec([['STRLEN', key]]);
      if (typeof len === 'number' && len > ctx.maxPayload) {
        keyError(
          result,
          ctx.db,
          key,
          `string of ${len} bytes is longer than the target's proto-max-bulk-len (${ctx.maxPayload}); raise it on the target`,
        );
        return;
      }
    }
    await write([['DEL', tmp]]);
    let bytes = 0;
    let chunks = 0;
    let fieldTtlsDropped = 0;
    let pending: Promise<void> | undefined;
    for await (const chunk of readChunks(src, key, type, { chunkBytes: ctx.chunkBytes })) {
      const cmds = chunkWriteCommands(tmp, chunk);
      if (chunk.type === 'hash' && ctx.fieldTtls.read) {
        const fields = hashFields(chunk.entries);
        const [ttls] = await hashFieldTtls(src, [{ source: key, target: tmp, fields }], ctx.fieldTtls);
        if (ttls!.refusal) throw new KeyCopyError(ttls!.refusal);
        cmds.push(...ttls!.writes);
        fieldTtlsDropped += ttls!.dropped;
      }
      cmds.push(['PEXPIRE', tmp, TEMP_KEY_TTL_MS]);
      // One chunk is written while the next is read: two chunks in memory at most.
      if (pending) await pending;
      pending = write(cmds);
      // Handled when awaited; this only keeps a failure from counting as unhandled meanwhile.
      pending.catch(() => undefined);
      bytes += valueBytes(chunk);
      chunks++;
    }
    if (pending) await pending;
    if (type === 'stream') {
      const meta = await readStreamMeta(src, key);
      if (!meta) return discard(dst, tmp, key, ctx, result);
      const cmds = chunks === 0 ? emptyStreamCommands(tmp) : [];
      cmds.push(...streamMetaCommands(tmp, meta, ctx.features), ['PEXPIRE', tmp, TEMP_KEY_TTL_MS]);
      await write(cmds);
      for (const g of meta.groups) {
        if (g.pendingCount === 0) continue;
        for await (const page of readPendingPages(src, key, g.name))
          await write(pendingCommands(tmp, g.name, page));
      }
    } else if (chunks === 0) {
      return discard(dst, tmp, key, ctx, result);
    }
    // The TTL is read last: it is the freshest, and a key that vanished meanwhile is not resurrected.
    const [pttlReply] = await src.exec([['PTTL', key]]);
    sourceCheck(pttlReply!);
    const pttl = typeof pttlReply === 'number' ? pttlReply : -2;
    if (pttl === -2 || pttl === 0) return discard(dst, tmp, key, ctx, result);
    await write([
      ['MULTI'],
      ['RENAME', tmp, key],
      pttl > 0 ? ['PEXPIRE', key, pttl] : ['PERSIST', key],
      ['EXEC'],
    ]);
    result.keysCopied++;
    result.bigKeysChunked++;
    result.bytesCopied += bytes;
    if (fieldTtlsDropped > 0) result.fieldTtlsDropped = (result.fieldTtlsDropped ?? 0) + fieldTtlsDropped;
  } catch (err) {
    if (err instanceof KeyCopyError || err instanceof TypeChangedError) {
      keyError(result, ctx.db, key, `chunked copy: ${err.message}`);
      await dst.exec([['DEL', tmp]]).catch(() => undefined);
      return;
    }
    throw err;
  }
}

function sourceCheck(reply: RespReply): void {
  if (!(reply instanceof RespError)) return;
  const kind = fatalKind(reply);
  if (kind === 'unavailable') throw new FatalReplyError('source', kind, reply.message);
  throw new KeyCopyError(reply.message);
}

async function discard(
  dst: CommandRunner,
  tmp: Buffer,
  key: Buffer,
  ctx: BatchContext,
  result: BatchResult,
): Promise<void> {
  checkTransaction(await dst.exec([['DEL', tmp]]));
  await missing(dst, key, ctx, result);
}

async function missing(
  dst: CommandRunner,
  key: Buffer,
  ctx: BatchContext,
  result: BatchResult,
): Promise<void> {
  result.keysSkipped++;
  if (ctx.deleteMissing) {
    checkTransaction(await dst.exec([['DEL', key]]));
    result.keysDeleted++;
  }
}
