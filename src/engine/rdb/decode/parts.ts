// What decoding a value yields, in the order the writer applies it. Collections come in batches
// (BATCH_ELEMENTS elements or BATCH_BYTES bytes at most), so a big value is never one array.
import type { StreamGroup, StreamMeta, ValueChunk } from '../../types/value.js';

export const BATCH_ELEMENTS = 1024;
export const BATCH_BYTES = 1024 * 1024;

/** A pending entry of a stream group as the RDB keeps it: the delivery time is absolute. */
export interface RdbPendingEntry {
  id: Buffer;
  consumer: Buffer;
  /** Unix ms of the last delivery. */
  deliveryTimeMs: number;
  deliveries: number;
}

export type DecodedPart =
  /** Elements to add (a string comes whole, as one chunk). */
  | { kind: 'chunk'; chunk: ValueChunk }
  /** Field TTLs (absolute Unix ms) of fields of the chunk just before; fields without one are left out. */
  | { kind: 'field-ttls'; fields: Buffer[]; expiresAt: number[] }
  /** After a stream's entries: its last id and counters (`groups` is empty: they follow one by one). */
  | { kind: 'stream-meta'; meta: StreamMeta }
  /** A consumer group (its consumers' names), then its pending entries in 'pending' parts. */
  | { kind: 'stream-group'; group: StreamGroup }
  | { kind: 'pending'; group: Buffer; entries: RdbPendingEntry[] };

/** Collects elements (or pairs) and says when a batch is full. */
export class Batcher {
  items: Buffer[] = [];
  private bytes = 0;
  private units = 0;

  /** Adds one unit (an element, or a pair's two); true when the batch is full. */
  add(a: Buffer, b?: Buffer): boolean {
    this.items.push(a);
    this.bytes += a.length;
    if (b !== undefined) {
      this.items.push(b);
      this.bytes += b.length;
    }
    return ++this.units >= BATCH_ELEMENTS || this.bytes >= BATCH_BYTES;
  }

  get empty(): boolean {
    return this.units === 0;
  }

  take(): Buffer[] {
    const out = this.items;
    this.items = [];
    this.bytes = 0;
    this.units = 0;
    return out;
  }
}
