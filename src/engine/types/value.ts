// A Redis value read by its type's native commands. Everything is bytes (Buffer): keys, fields,
// members, values, stream ids. Shared by the copy engine (by-type copy, chunked big keys) and by
// verification.

export type NativeType = 'string' | 'hash' | 'list' | 'set' | 'zset' | 'stream';

export const NATIVE_TYPES: readonly NativeType[] = ['string', 'hash', 'list', 'set', 'zset', 'stream'];

export function isNativeType(type: string): type is NativeType {
  return (NATIVE_TYPES as readonly string[]).includes(type);
}

export interface StreamEntry {
  id: Buffer;
  /** field, value, field, value, ... */
  fields: Buffer[];
}

export interface StreamPendingEntry {
  id: Buffer;
  consumer: Buffer;
  idleMs: number;
  deliveries: number;
}

export interface StreamGroup {
  name: Buffer;
  lastDeliveredId: Buffer;
  /** XINFO GROUPS entries-read (Redis 7+); null when the server does not know or report it. */
  entriesRead: number | null;
  consumers: Buffer[];
  /** Number of pending entries (the PEL itself is read separately, page by page, for big streams). */
  pendingCount: number;
}

export interface StreamMeta {
  length: number;
  lastId: Buffer;
  /** Redis 7+: entries-added and max-deleted-entry-id; null on older servers. */
  entriesAdded: number | null;
  maxDeletedId: Buffer | null;
  groups: StreamGroup[];
}

export type KeyValue =
  | { type: 'string'; value: Buffer }
  /** field, value, field, value, ... */
  | { type: 'hash'; entries: Buffer[] }
  | { type: 'list'; items: Buffer[] }
  | { type: 'set'; members: Buffer[] }
  /** member, score, member, score, ... as ZRANGE WITHSCORES returns them (scores as exact text). */
  | { type: 'zset'; entries: Buffer[] }
  | { type: 'stream'; entries: StreamEntry[]; meta: StreamMeta; pending: Map<string, StreamPendingEntry[]> };

/** Part of a big value read in chunks: the same shapes, streams without their metadata. */
export type ValueChunk =
  | { type: 'string'; value: Buffer }
  | { type: 'hash'; entries: Buffer[] }
  | { type: 'list'; items: Buffer[] }
  | { type: 'set'; members: Buffer[] }
  | { type: 'zset'; entries: Buffer[] }
  | { type: 'stream'; entries: StreamEntry[] };

/** What the target can express, from its version. */
export interface TargetFeatures {
  /** XSETID ENTRIESADDED/MAXDELETEDID and XGROUP CREATE ENTRIESREAD (Redis 7.0+). */
  streamCounters: boolean;
  /** XGROUP CREATECONSUMER (Redis 6.2+). */
  createConsumer: boolean;
}

export function featuresForVersion(version: string): TargetFeatures {
  const [major = 0, minor = 0] = version.split('.').map((n) => Number.parseInt(n, 10) || 0);
  return {
    streamCounters: major >= 7,
    createConsumer: major > 6 || (major === 6 && minor >= 2),
  };
}

/** Approximate bytes a value or chunk occupies on the wire. */
export function valueBytes(value: KeyValue | ValueChunk): number {
  switch (value.type) {
    case 'string':
      return value.value.length;
    case 'hash':
    case 'zset':
      return sumBytes(value.entries);
    case 'list':
      return sumBytes(value.items);
    case 'set':
      return sumBytes(value.members);
    case 'stream': {
      let n = 0;
      for (const e of value.entries) n += e.id.length + sumBytes(e.fields);
      return n;
    }
  }
}

function sumBytes(items: Buffer[]): number {
  let n = 0;
  for (const b of items) n += b.length;
  return n;
}
