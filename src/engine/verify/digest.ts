// Digests of values that are too big to hold in memory at once, fed chunk by chunk.
//
// Unordered types (sets, hashes) come back from SSCAN/HSCAN in an order that depends on each
// server's hash seed and table size, so their digest must not depend on order: each element
// (member, or field + value) is hashed to 128 bits on its own and the hashes are ADDED modulo
// 2^128. Not XORed: XOR cancels any element seen twice, so a duplicate from SCAN would silently
// remove an element from the digest. With a sum, an element seen twice shows up in `count`, which
// the caller checks against SCARD/HLEN to tell a SCAN duplicate (scan again) from a real difference.
// Two different sets only collide if their 128-bit hash sums collide: for non-adversarial data
// that is as unlikely as any 128-bit collision.
//
// Ordered types (lists, zsets by rank, stream entries and pending lists) use SHA-256 over the
// elements in order. Every element is framed by its part lengths, so ["ab", "c"] and ["a", "bc"]
// never hash alike.

import { createHash, type Hash } from 'node:crypto';

/** MurmurHash3 x86 32-bit of buf[0, len). */
export function murmur3(buf: Buffer, len: number, seed: number): number {
  let h = seed >>> 0;
  const blocks = len & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  // The 1-3 trailing bytes (the reference implementation's fall-through switch).
  const tail = len & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= buf[blocks + 2]! << 16;
    if (tail >= 2) k ^= buf[blocks + 1]! << 8;
    k ^= buf[blocks]!;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Writes parts as <uint32 BE length><bytes>... into a reusable scratch buffer. */
class Framer {
  private scratch = Buffer.allocUnsafe(256);

  frame(parts: readonly Buffer[]): { buf: Buffer; len: number } {
    let size = 0;
    for (const p of parts) size += 4 + p.length;
    if (size > this.scratch.length)
      this.scratch = Buffer.allocUnsafe(Math.max(size, this.scratch.length * 2));
    const buf = this.scratch;
    let pos = 0;
    for (const p of parts) {
      buf.writeUInt32BE(p.length, pos);
      pos += 4;
      p.copy(buf, pos);
      pos += p.length;
    }
    return { buf, len: size };
  }
}

const SEEDS = [0x9747b28c, 0x5bd1e995, 0x1b873593, 0xcc9e2d51] as const;
const TWO_32 = 0x1_0000_0000;

/** Order-independent digest: sum of per-element 128-bit hashes, plus the element count. */
export class UnorderedDigest {
  private readonly lanes = [0, 0, 0, 0];
  private readonly framer = new Framer();
  count = 0;

  /** Adds one element made of these parts (a member; a field and its value). */
  add(...parts: Buffer[]): void {
    const { buf, len } = this.framer.frame(parts);
    let carry = 0;
    for (let i = 0; i < 4; i++) {
      let sum = this.lanes[i]! + murmur3(buf, len, SEEDS[i]!) + carry;
      carry = 0;
      if (sum >= TWO_32) {
        sum -= TWO_32;
        carry = 1;
      }
      this.lanes[i] = sum;
    }
    this.count++;
  }

  /** 32 hex digits; equal sets give equal values whatever order they were added in. */
  get hex(): string {
    let out = '';
    for (let i = 3; i >= 0; i--) out += this.lanes[i]!.toString(16).padStart(8, '0');
    return out;
  }
}

/** Order-dependent digest: SHA-256 over framed elements, plus the element count. */
export class OrderedDigest {
  private readonly hash: Hash = createHash('sha256');
  private readonly framer = new Framer();
  private result: string | undefined;
  count = 0;

  add(...parts: Buffer[]): void {
    if (this.result !== undefined) throw new Error('digest already finished');
    const { buf, len } = this.framer.frame(parts);
    this.hash.update(buf.subarray(0, len));
    this.count++;
  }

  get hex(): string {
    this.result ??= this.hash.digest('hex');
    return this.result;
  }
}

/**
 * A score as Redis prints it -> its exact double. Redis 7.0 and older print `%.17g`
 * ("0.10000000000000001"), 7.2+ the shortest form ("0.1"): both parse to the same double, so
 * scores are compared as doubles (bit for bit, -0 apart from 0), never as text.
 */
export function parseScore(text: Buffer | string): number {
  const s = typeof text === 'string' ? text : text.toString('latin1');
  const lower = s.toLowerCase();
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  const n = Number(s);
  if (Number.isNaN(n)) throw new Error(`not a score: ${s}`);
  return n;
}

const scoreScratch = Buffer.allocUnsafe(8);

/** The 8 bytes of a score's double: the canonical form used in digests. */
export function scoreBytes(score: number): Buffer {
  scoreScratch.writeDoubleBE(score, 0);
  return scoreScratch;
}

/** Digest of a whole set (its members in any order). */
export function setDigest(members: Iterable<Buffer>): UnorderedDigest {
  const d = new UnorderedDigest();
  for (const m of members) d.add(m);
  return d;
}

/** Digest of a whole hash given as field, value, field, value... in any order of pairs. */
export function hashDigest(entries: readonly Buffer[]): UnorderedDigest {
  const d = new UnorderedDigest();
  for (let i = 0; i + 1 < entries.length; i += 2) d.add(entries[i]!, entries[i + 1]!);
  return d;
}

/** Digest of a list, in order. */
export function listDigest(items: Iterable<Buffer>): OrderedDigest {
  const d = new OrderedDigest();
  for (const item of items) d.add(item);
  return d;
}

/** Adds ZRANGE ... WITHSCORES output (member, score, member, score...) to an ordered digest. */
export function addZsetEntries(d: OrderedDigest, entries: readonly Buffer[]): void {
  for (let i = 0; i + 1 < entries.length; i += 2) d.add(entries[i]!, scoreBytes(parseScore(entries[i + 1]!)));
}

/** Digest of a whole zset from ZRANGE 0 -1 WITHSCORES (rank order: score, then member bytes). */
export function zsetDigest(entries: readonly Buffer[]): OrderedDigest {
  const d = new OrderedDigest();
  addZsetEntries(d, entries);
  return d;
}
