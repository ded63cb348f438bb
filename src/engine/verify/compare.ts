// Exact comparison of whole values read by type, with a short human detail of the first
// difference found. Unordered types are compared in a canonical order (sorted bytes), so the
// order a server happens to return members in never matters.
import { printableKey } from '../../probe/printable-key.js';
import { parseScore } from './digest.js';

/** A short printable form of a member or field, for details. */
export function shortText(buf: Buffer, max = 40): string {
  const text = printableKey(buf.length > max * 4 ? buf.subarray(0, max * 4) : buf);
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

export function compareStrings(a: Buffer, b: Buffer): string | null {
  if (a.equals(b)) return null;
  if (a.length !== b.length) return `string of ${a.length} vs ${b.length} bytes`;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `string of ${a.length} bytes differs from byte ${i}`;
}

export function compareLists(a: readonly Buffer[], b: readonly Buffer[]): string | null {
  if (sameSequence(a, b)) return null;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (!a[i]!.equals(b[i]!)) return `list element ${i} differs (${a.length} vs ${b.length} elements)`;
  }
  if (a.length !== b.length) return `list of ${a.length} vs ${b.length} elements`;
  return null;
}

/** Same elements in the same order (the usual case for compact encodings): no need to canonicalize. */
function sameSequence(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!a[i]!.equals(b[i]!)) return false;
  return true;
}

export function compareSets(a: readonly Buffer[], b: readonly Buffer[]): string | null {
  if (sameSequence(a, b)) return null;
  // latin1 maps each byte to one character, so the strings are exact stand-ins for the bytes.
  const inA = new Set(a.map((m) => m.toString('latin1')));
  if (inA.size === a.length && b.length === a.length && everyDeleted(inA, b)) return null;
  inA.clear();
  for (const m of a) inA.add(m.toString('latin1'));
  const inB = new Set(b.map((m) => m.toString('latin1')));
  if (inA.size === inB.size && a.length === b.length) {
    let same = true;
    for (const m of inA) {
      if (!inB.has(m)) {
        same = false;
        break;
      }
    }
    if (same) return null;
  }
  const onlyA = a.find((m) => !inB.has(m.toString('latin1')));
  if (onlyA) return `set of ${a.length} vs ${b.length} members; '${shortText(onlyA)}' only on the source`;
  const onlyB = b.find((m) => !inA.has(m.toString('latin1')));
  if (onlyB) return `set of ${a.length} vs ${b.length} members; '${shortText(onlyB)}' only on the target`;
  // Same distinct members, different counts: one side listed a member twice (not a real set).
  return `set of ${a.length} vs ${b.length} members`;
}

/**
 * Removes each of `members` from `set`: true when every one was there and nothing is left over, so
 * with equal lengths and distinct `set` both lists hold the same members (the usual, equal case:
 * one Set instead of two).
 */
function everyDeleted(set: Set<string>, members: readonly Buffer[]): boolean {
  for (const m of members) if (!set.delete(m.toString('latin1'))) return false;
  return set.size === 0;
}

/** field (latin1) -> value (latin1) of a field/value list. */
function pairMap(entries: readonly Buffer[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < entries.length; i += 2) {
    out.set(entries[i]!.toString('latin1'), entries[i + 1]!.toString('latin1'));
  }
  return out;
}

const fromLatin1 = (text: string) => Buffer.from(text, 'latin1');

/** Hashes as field, value, field, value... in any pair order. */
export function compareHashes(a: readonly Buffer[], b: readonly Buffer[]): string | null {
  if (sameSequence(a, b)) return null;
  const ma = pairMap(a);
  const mb = pairMap(b);
  const sizes = `hash of ${ma.size} vs ${mb.size} fields`;
  const onlyA: string[] = [];
  for (const [field, value] of ma) {
    const other = mb.get(field);
    if (other === undefined) onlyA.push(field);
    else if (other !== value) return `hash field '${shortText(fromLatin1(field))}' differs`;
  }
  if (onlyA.length > 0) return `${sizes}; '${shortText(fromLatin1(onlyA.sort()[0]!))}' only on the source`;
  if (ma.size !== mb.size) {
    const onlyB = [...mb.keys()].filter((f) => !ma.has(f)).sort();
    return `${sizes}; '${shortText(fromLatin1(onlyB[0]!))}' only on the target`;
  }
  return null;
}

/**
 * Zsets as ZRANGE 0 -1 WITHSCORES prints them (member, score, ...). Scores are compared as the
 * doubles they print (see parseScore), members as bytes.
 */
export function compareZsets(a: readonly Buffer[], b: readonly Buffer[]): string | null {
  // Both servers list members in the same (score, member) order: same bytes prove equality.
  if (sameSequence(a, b)) return null;
  const ma = zsetMap(a);
  const mb = zsetMap(b);
  for (const [member, score] of ma) {
    const other = mb.get(member);
    if (other === undefined) {
      return `zset of ${ma.size} vs ${mb.size} members; '${shortText(Buffer.from(member, 'latin1'))}' only on the source`;
    }
    if (!Object.is(score, other)) {
      return `zset member '${shortText(Buffer.from(member, 'latin1'))}' has score ${score} vs ${other}`;
    }
  }
  for (const member of mb.keys()) {
    if (!ma.has(member)) {
      return `zset of ${ma.size} vs ${mb.size} members; '${shortText(Buffer.from(member, 'latin1'))}' only on the target`;
    }
  }
  return null;
}

function zsetMap(entries: readonly Buffer[]): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i + 1 < entries.length; i += 2) {
    out.set(entries[i]!.toString('latin1'), parseScore(entries[i + 1]!));
  }
  return out;
}
