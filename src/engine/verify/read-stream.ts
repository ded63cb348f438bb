// Streams, for the type-aware comparison. What is compared, and why:
//   - entries (ids and field/value pairs, in id order), digested XRANGE page by page;
//   - last-generated-id (XADD * must keep producing larger ids after the cutover);
//   - entries-added and max-deleted-entry-id, when both servers report them (Redis 7+);
//   - consumer groups by name: last-delivered-id, entries-read (when both report it), the
//     consumer names, and the pending entries list: id, owning consumer and delivery count, read
//     with XPENDING page by page.
// Not compared: idle / seen / active times of pending entries and consumers (they move with the
// clock and with every read, and native commands cannot set them exactly), and lag (derived from
// entries-read and entries-added).

import type { CommandRunner } from '../resp/connection.js';
import { type RespArg, RespError, type RespReply, SkippedBulk } from '../resp/reply.js';
import { fieldMap } from '../types/stream.js';
import { OrderedDigest } from './digest.js';
import { readSizer } from './read-size.js';

export interface StreamGroupView {
  /** Group name as latin1 (bytes preserved). */
  name: string;
  lastDeliveredId: string;
  entriesRead: number | null;
  /** Consumer names (latin1), sorted. */
  consumers: string[];
  pending: { count: number; hex: string };
}

export interface StreamView {
  lastId: string;
  entriesAdded: number | null;
  maxDeletedId: string | null;
  entries: { count: number; hex: string };
  groups: StreamGroupView[];
}

class StreamGoneError extends Error {}

function text(reply: RespReply | undefined): string | null {
  if (Buffer.isBuffer(reply)) return reply.toString('latin1');
  if (typeof reply === 'string' || typeof reply === 'number') return String(reply);
  return null;
}

function int(reply: RespReply | undefined): number | null {
  const t = text(reply);
  if (t === null) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/** The smallest stream id greater than `id` ("ms-seq"): exclusive range starts for any server version. */
export function nextStreamId(id: string): string {
  const dash = id.indexOf('-');
  const ms = BigInt(dash === -1 ? id : id.slice(0, dash));
  const seq = dash === -1 ? 0n : BigInt(id.slice(dash + 1));
  if (seq === 0xffff_ffff_ffff_ffffn) return `${ms + 1n}-0`;
  return `${ms}-${seq + 1n}`;
}

async function one(runner: CommandRunner, args: RespArg[], maxBulkBytes?: number): Promise<RespReply> {
  const [reply] = await runner.exec([args], maxBulkBytes);
  if (reply instanceof RespError) {
    if (reply.code === 'WRONGTYPE' || /no such key/i.test(reply.message)) throw new StreamGoneError();
    throw new Error(`${String(args[0])} ${String(args[1] ?? '')}: ${reply.message}`);
  }
  return reply!;
}

/**
 * A stream's comparable view; null when the key is gone (or no longer a stream). `big`: known to
 * be big, so the first XRANGE asks for one entry instead of `chunk`.
 */
export async function readStreamView(
  runner: CommandRunner,
  key: Buffer,
  chunk: number,
  big = false,
): Promise<StreamView | null> {
  try {
    return await read(runner, key, chunk, big);
  } catch (err) {
    if (err instanceof StreamGoneError) return null;
    throw err;
  }
}

async function read(runner: CommandRunner, key: Buffer, chunk: number, big: boolean): Promise<StreamView> {
  const info = fieldMap(await one(runner, ['XINFO', 'STREAM', key]));
  const groupsReply = await one(runner, ['XINFO', 'GROUPS', key]);

  const entries = new OrderedDigest();
  // Entries with big field values are read a budgeted number at a time (see read-size.ts): an
  // entry cut off by the byte cap is asked for again, from its id, with fewer entries per read.
  const sizer = readSizer(chunk, big ? undefined : 0);
  let start = '-';
  for (;;) {
    const count = sizer.count;
    const page = await one(runner, ['XRANGE', key, start, '+', 'COUNT', count], sizer.cap);
    if (!Array.isArray(page)) break;
    let last: string | null = null;
    let biggest = 0;
    let cut = false;
    for (const row of page) {
      if (!Array.isArray(row)) continue;
      const fields = (Array.isArray(row[1]) ? row[1] : []) as (Buffer | SkippedBulk)[];
      const bytes = fields.reduce((n, f) => n + f.length, 0);
      if (bytes > biggest) biggest = bytes;
      if (cut || fields.some((f) => f instanceof SkippedBulk)) {
        cut = true;
        continue;
      }
      const id = row[0] as Buffer;
      entries.add(id, ...(fields as Buffer[]));
      last = id.toString('latin1');
    }
    sizer.saw(biggest, cut);
    if (last !== null) start = nextStreamId(last);
    if (!cut && page.length < count) break;
  }

  const groups: StreamGroupView[] = [];
  for (const g of Array.isArray(groupsReply) ? groupsReply : []) {
    const m = fieldMap(g);
    const nameReply = m.get('name');
    const name = Buffer.isBuffer(nameReply) ? nameReply : Buffer.from(text(nameReply) ?? '', 'latin1');
    const consumersReply = await one(runner, ['XINFO', 'CONSUMERS', key, name]);
    const consumers = (Array.isArray(consumersReply) ? consumersReply : [])
      .map((c) => text(fieldMap(c).get('name')))
      .filter((n): n is string => n !== null)
      .sort();
    groups.push({
      name: name.toString('latin1'),
      lastDeliveredId: text(m.get('last-delivered-id')) ?? '0-0',
      entriesRead: int(m.get('entries-read')),
      consumers,
      pending: await readPending(runner, key, name, chunk),
    });
  }
  groups.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    lastId: text(info.get('last-generated-id')) ?? '0-0',
    entriesAdded: int(info.get('entries-added')),
    maxDeletedId: text(info.get('max-deleted-entry-id')),
    entries: { count: entries.count, hex: entries.hex },
    groups,
  };
}

/** The group's PEL in id order: id, consumer and delivery count of each entry (idle time left out). */
async function readPending(
  runner: CommandRunner,
  key: Buffer,
  group: Buffer,
  chunk: number,
): Promise<{ count: number; hex: string }> {
  const digest = new OrderedDigest();
  let start = '-';
  for (;;) {
    const page = await one(runner, ['XPENDING', key, group, start, '+', chunk]);
    if (!Array.isArray(page) || page.length === 0) break;
    let last: string | null = null;
    for (const row of page) {
      if (!Array.isArray(row)) continue;
      const id = row[0] as Buffer;
      const consumer = row[1] as Buffer;
      const deliveries = Buffer.from(String(row[3]));
      digest.add(id, consumer, deliveries);
      last = id.toString('latin1');
    }
    if (page.length < chunk || last === null) break;
    start = nextStreamId(last);
  }
  return { count: digest.count, hex: digest.hex };
}

/** The first difference between two streams, or null. */
export function compareStreams(
  a: StreamView,
  b: StreamView,
  show: (latin1: string) => string,
): string | null {
  if (a.entries.count !== b.entries.count)
    return `stream of ${a.entries.count} vs ${b.entries.count} entries`;
  if (a.entries.hex !== b.entries.hex) return `stream entries differ (${a.entries.count} entries each)`;
  if (a.lastId !== b.lastId) return `stream last-generated-id ${a.lastId} vs ${b.lastId}`;
  if (a.entriesAdded !== null && b.entriesAdded !== null && a.entriesAdded !== b.entriesAdded) {
    return `stream entries-added ${a.entriesAdded} vs ${b.entriesAdded}`;
  }
  if (a.maxDeletedId !== null && b.maxDeletedId !== null && a.maxDeletedId !== b.maxDeletedId) {
    return `stream max-deleted-entry-id ${a.maxDeletedId} vs ${b.maxDeletedId}`;
  }
  const groupsB = new Map(b.groups.map((g) => [g.name, g]));
  for (const ga of a.groups) {
    const gb = groupsB.get(ga.name);
    const label = `consumer group '${show(ga.name)}'`;
    if (!gb) return `${label} only on the source`;
    if (ga.lastDeliveredId !== gb.lastDeliveredId) {
      return `${label}: last-delivered-id ${ga.lastDeliveredId} vs ${gb.lastDeliveredId}`;
    }
    if (ga.entriesRead !== null && gb.entriesRead !== null && ga.entriesRead !== gb.entriesRead) {
      return `${label}: entries-read ${ga.entriesRead} vs ${gb.entriesRead}`;
    }
    if (ga.consumers.join('\0') !== gb.consumers.join('\0')) {
      const onlyA = ga.consumers.find((c) => !gb.consumers.includes(c));
      const onlyB = gb.consumers.find((c) => !ga.consumers.includes(c));
      if (onlyA !== undefined) return `${label}: consumer '${show(onlyA)}' only on the source`;
      if (onlyB !== undefined) return `${label}: consumer '${show(onlyB)}' only on the target`;
      return `${label}: consumers differ`;
    }
    if (ga.pending.count !== gb.pending.count) {
      return `${label}: ${ga.pending.count} vs ${gb.pending.count} pending entries`;
    }
    if (ga.pending.hex !== gb.pending.hex) {
      return `${label}: pending entries differ (owner or delivery count)`;
    }
  }
  for (const gb of b.groups) {
    if (!a.groups.some((g) => g.name === gb.name))
      return `consumer group '${show(gb.name)}' only on the target`;
  }
  return null;
}
