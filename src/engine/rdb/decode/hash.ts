// Hashes (hash table, zipmap, ziplist, listpack) and hashes with field TTLs (Redis 7.4+: the
// metadata and listpack-ex layouts, and their 7.4 release-candidate forms) as batches of
// field, value pairs, each followed by the TTLs of its fields that have one.
import { corruptValue, type ValueCursor } from './cursor.js';
import { zipmapEntries } from './intset-zipmap.js';
import { listpackElements } from './listpack.js';
import { type Packed, packedBytes, packedInt } from './packed.js';
import { Batcher, type DecodedPart } from './parts.js';
import { ziplistElements } from './ziplist.js';

/** The hash types whose fields may carry TTLs (rdb.h RDB_TYPE_HASH_METADATA* and *_LISTPACK_EX*). */
export const FIELD_TTL_TYPES: ReadonlySet<number> = new Set([22, 23, 24, 25]);

/** The listpack-ex's "no TTL" (t_hash.c HASH_LP_NO_TTL). */
const LP_NO_TTL = 0n;

interface Field {
  field: Buffer;
  value: Buffer;
  /** Absolute Unix ms, or -1 for none. */
  expiresAt: number;
}

/** Fields of the hash table form (4) and of the field-TTL forms; hashParts reads the compact ones. */
function* fields(type: number, c: ValueCursor): Generator<Field> {
  switch (type) {
    case 4: {
      for (let n = c.len(); n > 0; n--) yield { field: c.string(), value: c.string(), expiresAt: -1 };
      return;
    }
    case 22:
    case 24: {
      // 24 stores each TTL relative to the hash's smallest one (+1, 0 = none); 22 stores them absolute.
      const min = type === 24 ? BigInt(c.millis()) : 0n;
      for (let n = c.len(); n > 0; n--) {
        const ttl = c.lenBig();
        const expiresAt = ttl === 0n ? -1 : Number(type === 24 ? ttl + min - 1n : ttl);
        yield { field: c.string(), value: c.string(), expiresAt };
      }
      return;
    }
    case 23:
    case 25: {
      if (type === 25) c.millis(); // the smallest TTL, kept for the server's own use
      const it = listpackElements(c.string());
      for (;;) {
        const f = it.next();
        if (f.done) return;
        const v = it.next();
        const t = it.next();
        if (v.done || t.done) throw corruptValue('a listpack-ex hash entry without its value or TTL');
        const ttl = packedInt(t.value);
        yield {
          field: packedBytes(f.value),
          value: packedBytes(v.value),
          expiresAt: ttl === LP_NO_TTL ? -1 : Number(ttl),
        };
      }
    }
    default:
      throw corruptValue(`type ${type} is not a hash`);
  }
}

export function* hashParts(type: number, c: ValueCursor): Generator<DecodedPart> {
  const batch = new Batcher();
  if (type === 9 || type === 13 || type === 16) {
    // The common compact forms, without a Field object per field (no TTLs to carry).
    const blob = c.string();
    const elements =
      type === 9 ? zipmapEntries(blob) : type === 13 ? ziplistElements(blob) : listpackElements(blob);
    let field: Packed | null = null;
    for (const v of elements) {
      if (field === null) field = v;
      else {
        if (batch.add(packedBytes(field), packedBytes(v)))
          yield { kind: 'chunk', chunk: { type: 'hash', entries: batch.take() } };
        field = null;
      }
    }
    if (field !== null) throw corruptValue('a hash field without its value');
    if (!batch.empty) yield { kind: 'chunk', chunk: { type: 'hash', entries: batch.take() } };
    return;
  }
  let ttlFields: Buffer[] = [];
  let ttls: number[] = [];
  function* emit(): Generator<DecodedPart> {
    yield { kind: 'chunk', chunk: { type: 'hash', entries: batch.take() } };
    if (ttlFields.length > 0) yield { kind: 'field-ttls', fields: ttlFields, expiresAt: ttls };
    ttlFields = [];
    ttls = [];
  }
  for (const f of fields(type, c)) {
    if (f.expiresAt >= 0) {
      ttlFields.push(f.field);
      ttls.push(f.expiresAt);
    }
    if (batch.add(f.field, f.value)) yield* emit();
  }
  if (!batch.empty) yield* emit();
}

/** How many fields of a hash value have a TTL (0 for the types that cannot have any). */
export function countFieldTtls(type: number, c: ValueCursor): number {
  if (!FIELD_TTL_TYPES.has(type)) return 0;
  let n = 0;
  for (const f of fields(type, c)) if (f.expiresAt >= 0) n++;
  return n;
}
