// Streams by native commands: entries with XADD and explicit ids, then the stream's own counters
// (XSETID with ENTRIESADDED/MAXDELETEDID on 7+), consumer groups (XGROUP CREATE at their
// last-delivered-id with ENTRIESREAD on 7+), consumers (XGROUP CREATECONSUMER) and pending
// entries (XCLAIM ... IDLE <ms> RETRYCOUNT <n> FORCE JUSTID, which recreates a PEL entry with its
// delivery count and idle time without touching the counters).
//
// What native commands cannot carry over: consumers' own idle/seen times (recreating them makes
// them look fresh), and pending entries whose message was deleted from the stream (XCLAIM ignores
// ids that no longer exist). DUMP/RESTORE keeps both.
import type { CommandRunner } from '../resp/connection.js';
import { type RespArg, RespError, type RespReply, replyInt } from '../resp/reply.js';
import { TypeChangedError } from './errors.js';
import type { StreamGroup, StreamMeta, StreamPendingEntry, TargetFeatures } from './value.js';

/** XINFO-style flat [name, value, name, value...] reply as a map from field name. */
export function fieldMap(reply: RespReply): Map<string, RespReply> {
  const out = new Map<string, RespReply>();
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) {
    const name = reply[i];
    out.set(Buffer.isBuffer(name) ? name.toString('latin1') : String(name), reply[i + 1]!);
  }
  return out;
}

function asBuffer(reply: RespReply | undefined): Buffer | null {
  if (Buffer.isBuffer(reply)) return reply;
  if (typeof reply === 'string' || typeof reply === 'number') return Buffer.from(String(reply));
  return null;
}

/**
 * Counters, groups and consumers of a stream; null when the key does not exist. The PEL is read
 * separately with readPendingPages so that a huge one never sits in memory at once.
 */
export async function readStreamMeta(runner: CommandRunner, key: Buffer): Promise<StreamMeta | null> {
  const [info, groupsReply] = await runner.exec([
    ['XINFO', 'STREAM', key],
    ['XINFO', 'GROUPS', key],
  ]);
  if (info instanceof RespError) {
    if (/no such key/i.test(info.message)) return null;
    if (info.code === 'WRONGTYPE') throw new TypeChangedError(key);
    throw new Error(`XINFO STREAM: ${info.message}`);
  }
  if (groupsReply instanceof RespError) throw new Error(`XINFO GROUPS: ${groupsReply.message}`);
  const s = fieldMap(info);
  const groups: StreamGroup[] = [];
  for (const g of Array.isArray(groupsReply) ? groupsReply : []) {
    const m = fieldMap(g);
    const entriesRead = m.get('entries-read');
    groups.push({
      name: asBuffer(m.get('name'))!,
      lastDeliveredId: asBuffer(m.get('last-delivered-id')) ?? Buffer.from('0-0'),
      entriesRead: entriesRead === null || entriesRead === undefined ? null : (replyInt(entriesRead) ?? null),
      consumers: [],
      pendingCount: replyInt(m.get('pending')) ?? 0,
    });
  }
  if (groups.length > 0) {
    const consumerReplies = await runner.exec(groups.map((g) => ['XINFO', 'CONSUMERS', key, g.name]));
    consumerReplies.forEach((reply, i) => {
      if (!Array.isArray(reply)) return;
      groups[i]!.consumers = reply.map((c) => asBuffer(fieldMap(c).get('name'))).filter((n) => n !== null);
    });
  }
  const entriesAdded = s.get('entries-added');
  const maxDeleted = s.get('max-deleted-entry-id');
  return {
    length: replyInt(s.get('length')) ?? 0,
    lastId: asBuffer(s.get('last-generated-id')) ?? Buffer.from('0-0'),
    entriesAdded:
      entriesAdded === undefined || entriesAdded === null ? null : (replyInt(entriesAdded) ?? null),
    maxDeletedId: asBuffer(maxDeleted ?? null),
    groups,
  };
}

/** The group's pending entries, in id order, a page at a time. */
export async function* readPendingPages(
  runner: CommandRunner,
  key: Buffer,
  group: Buffer,
  pageSize = 1000,
): AsyncGenerator<StreamPendingEntry[]> {
  let start: Buffer | string = '-';
  for (;;) {
    const [reply] = await runner.exec([['XPENDING', key, group, start, '+', pageSize]]);
    if (reply instanceof RespError) {
      if (reply.code === 'WRONGTYPE') throw new TypeChangedError(key);
      if (reply.code === 'NOGROUP') return;
      throw new Error(`XPENDING: ${reply.message}`);
    }
    const page: StreamPendingEntry[] = [];
    for (const row of Array.isArray(reply) ? reply : []) {
      if (!Array.isArray(row)) continue;
      page.push({
        id: asBuffer(row[0])!,
        consumer: asBuffer(row[1])!,
        idleMs: replyInt(row[2]) ?? 0,
        deliveries: replyInt(row[3]) ?? 1,
      });
    }
    if (page.length > 0) yield page;
    if (page.length < pageSize) return;
    start = nextStreamId(page[page.length - 1]!.id);
  }
}

/** The smallest id after this one (`ms-seq` + 1), for exclusive range starts on any version. */
export function nextStreamId(id: Buffer): Buffer {
  const text = id.toString('latin1');
  const dash = text.indexOf('-');
  const ms = BigInt(dash === -1 ? text : text.slice(0, dash));
  const seq = dash === -1 ? 0n : BigInt(text.slice(dash + 1));
  const max = (1n << 64n) - 1n;
  if (seq < max) return Buffer.from(`${ms}-${seq + 1n}`);
  return Buffer.from(`${ms + 1n}-0`);
}

/** Creates an empty stream (a stream whose entries were all deleted still exists). */
export function emptyStreamCommands(key: Buffer): RespArg[][] {
  const tmpGroup = 'migration-buddy:mkstream';
  return [
    ['XGROUP', 'CREATE', key, tmpGroup, '$', 'MKSTREAM'],
    ['XGROUP', 'DESTROY', key, tmpGroup],
  ];
}

/** XSETID, groups and consumers; run after the entries were added. */
export function streamMetaCommands(key: Buffer, meta: StreamMeta, features: TargetFeatures): RespArg[][] {
  const cmds: RespArg[][] = [];
  const setId: RespArg[] = ['XSETID', key, meta.lastId];
  if (features.streamCounters && meta.entriesAdded !== null) {
    setId.push('ENTRIESADDED', meta.entriesAdded);
    if (meta.maxDeletedId) setId.push('MAXDELETEDID', meta.maxDeletedId);
  }
  cmds.push(setId);
  for (const g of meta.groups) {
    const create: RespArg[] = ['XGROUP', 'CREATE', key, g.name, g.lastDeliveredId];
    if (features.streamCounters && g.entriesRead !== null) create.push('ENTRIESREAD', g.entriesRead);
    cmds.push(create);
    if (features.createConsumer) {
      for (const c of g.consumers) cmds.push(['XGROUP', 'CREATECONSUMER', key, g.name, c]);
    }
  }
  return cmds;
}

/** Recreates pending entries with their idle time and delivery count. */
export function pendingCommands(key: Buffer, group: Buffer, pending: StreamPendingEntry[]): RespArg[][] {
  return pending.map((p) => [
    'XCLAIM',
    key,
    group,
    p.consumer,
    0,
    p.id,
    'IDLE',
    p.idleMs,
    'RETRYCOUNT',
    p.deliveries,
    'FORCE',
    'JUSTID',
  ]);
}
