// Streams (RDB_TYPE_STREAM_LISTPACKS 1 to 3, t_stream.c and rdb.c): listpack nodes keyed by a
// master id, each starting with a master entry (count, deleted, the master fields, 0) followed
// by entries of flags, id deltas from the master id, fields (or only values when they are the
// master's: SAMEFIELDS) and a back count; then the stream's counters, then each consumer group
// with its pending entries (PEL) and its consumers, each with the ids of the PEL it owns.
import type { StreamEntry, StreamGroup } from '../../types/value.js';
import { corruptValue, type ValueCursor } from './cursor.js';
import { listpackElements } from './listpack.js';
import { type Packed, packedBytes, packedInt } from './packed.js';
import { BATCH_BYTES, BATCH_ELEMENTS, type DecodedPart, type RdbPendingEntry } from './parts.js';

const FLAG_DELETED = 1;
const FLAG_SAMEFIELDS = 2;
/** A group's entries-read when unknown (t_stream.c SCG_INVALID_ENTRIES_READ, -1 as unsigned). */
const ENTRIES_READ_UNKNOWN = (1n << 64n) - 1n;

const idText = (ms: bigint, seq: bigint) => Buffer.from(`${ms}-${seq}`);
const rawId = (raw: Buffer) => idText(raw.readBigUInt64BE(0), raw.readBigUInt64BE(8));

/** `type` 15, 19 or 21: the stream layout version is 1, 2 or 3. */
export function* streamParts(type: number, c: ValueCursor): Generator<DecodedPart> {
  const version = type === 15 ? 1 : type === 19 ? 2 : type === 21 ? 3 : 0;
  if (version === 0) throw corruptValue(`type ${type} is not a stream`);
  yield* entries(c);
  const length = c.len();
  const lastId = idText(c.lenBig(), c.lenBig());
  let entriesAdded: number | null = null;
  let maxDeletedId: Buffer | null = null;
  if (version >= 2) {
    c.lenBig(); // first id: follows from the entries
    c.lenBig();
    maxDeletedId = idText(c.lenBig(), c.lenBig());
    entriesAdded = c.len();
  }
  yield { kind: 'stream-meta', meta: { length, lastId, entriesAdded, maxDeletedId, groups: [] } };
  for (let groups = c.len(); groups > 0; groups--) yield* group(c, version);
}

function* entries(c: ValueCursor): Generator<DecodedPart> {
  let batch: StreamEntry[] = [];
  let bytes = 0;
  for (let nodes = c.len(); nodes > 0; nodes--) {
    const master = c.string();
    if (master.length !== 16) throw corruptValue('a stream node key that is not a 16-byte id');
    const baseMs = master.readBigUInt64BE(0);
    const baseSeq = master.readBigUInt64BE(8);
    const it = listpackElements(c.string());
    const next = (): Packed => {
      const r = it.next();
      if (r.done) throw corruptValue('a stream listpack ends inside an entry');
      return r.value;
    };
    const int = () => packedInt(next());
    const live = Number(int());
    const deleted = Number(int());
    const masterFields: Buffer[] = [];
    for (let n = Number(int()); n > 0; n--) masterFields.push(packedBytes(next()));
    next(); // the master entry's terminator
    for (let n = live + deleted; n > 0; n--) {
      const flags = Number(int());
      const id = idText(baseMs + int(), baseSeq + int());
      const fields: Buffer[] = [];
      if (flags & FLAG_SAMEFIELDS) {
        for (const f of masterFields) fields.push(f, packedBytes(next()));
      } else {
        for (let k = Number(int()); k > 0; k--) fields.push(packedBytes(next()), packedBytes(next()));
      }
      next(); // lp-count, for walking backwards
      if (flags & FLAG_DELETED) continue;
      batch.push({ id, fields });
      for (const f of fields) bytes += f.length;
      if (batch.length >= BATCH_ELEMENTS || bytes >= BATCH_BYTES) {
        yield { kind: 'chunk', chunk: { type: 'stream', entries: batch } };
        batch = [];
        bytes = 0;
      }
    }
  }
  if (batch.length > 0) yield { kind: 'chunk', chunk: { type: 'stream', entries: batch } };
}

function* group(c: ValueCursor, version: number): Generator<DecodedPart> {
  const name = c.string();
  const lastDeliveredId = idText(c.lenBig(), c.lenBig());
  let entriesRead: number | null = null;
  if (version >= 2) {
    const read = c.lenBig();
    entriesRead = read === ENTRIES_READ_UNKNOWN ? null : Number(read);
  }
  // The PEL comes before its owners: keep it (raw id -> delivery) until the consumers say whose.
  const pel = new Map<string, { time: number; count: number }>();
  for (let n = c.len(); n > 0; n--) {
    const raw = c.fixed(16).toString('latin1');
    pel.set(raw, { time: c.millis(), count: c.len() });
  }
  const consumers: Buffer[] = [];
  const owned: { consumer: Buffer; ids: Buffer[] }[] = [];
  for (let n = c.len(); n > 0; n--) {
    const consumer = c.string();
    c.millis(); // seen time: native commands cannot set it
    if (version >= 3) c.millis(); // active time
    const ids: Buffer[] = [];
    for (let k = c.len(); k > 0; k--) ids.push(c.fixed(16));
    consumers.push(consumer);
    if (ids.length > 0) owned.push({ consumer, ids });
  }
  const info: StreamGroup = { name, lastDeliveredId, entriesRead, consumers, pendingCount: pel.size };
  yield { kind: 'stream-group', group: info };
  let page: RdbPendingEntry[] = [];
  for (const { consumer, ids } of owned) {
    for (const raw of ids) {
      const nack = pel.get(raw.toString('latin1'));
      if (!nack) throw corruptValue("a consumer's pending id that is not in its group's PEL");
      page.push({ id: rawId(raw), consumer, deliveryTimeMs: nack.time, deliveries: nack.count });
      if (page.length >= BATCH_ELEMENTS) {
        yield { kind: 'pending', group: name, entries: page };
        page = [];
      }
    }
  }
  if (page.length > 0) yield { kind: 'pending', group: name, entries: page };
}
