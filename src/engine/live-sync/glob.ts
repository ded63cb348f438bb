// Redis glob patterns (KEYS, SCAN MATCH, PSUBSCRIBE) matched against raw key bytes.
// A port of stringmatchlen() from Redis' util.c, so that a key kept or dropped here is exactly the
// key the server's own SCAN MATCH would keep or drop (the bulk copy and the reconcile pass use it).

const STAR = 0x2a; // *
const QUESTION = 0x3f; // ?
const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const CARET = 0x5e; // ^
const BACKSLASH = 0x5c; // \
const DASH = 0x2d; // -

/** Redis stores bytes in C `char`, which is signed on the platforms it runs on: ranges compare that way. */
function signed(byte: number): number {
  return byte > 127 ? byte - 256 : byte;
}

/** Compiles a pattern into a predicate over key bytes. `*` alone matches everything without work. */
export function globMatcher(pattern: string | Buffer): (key: Buffer) => boolean {
  const p = typeof pattern === 'string' ? Buffer.from(pattern, 'utf8') : pattern;
  if (p.length === 1 && p[0] === STAR) return () => true;
  return (key) => globMatch(p, key);
}

export function globMatch(pattern: Buffer, key: Buffer): boolean {
  const skipLonger = { value: false };
  return matchFrom(pattern, 0, key, 0, skipLonger, 0);
}

function matchFrom(
  pattern: Buffer,
  pStart: number,
  str: Buffer,
  sStart: number,
  skipLonger: { value: boolean },
  nesting: number,
): boolean {
  // Same guard as Redis against patterns built to explode the recursion.
  if (nesting > 1000) return false;
  let p = pStart;
  let s = sStart;
  const pEnd = pattern.length;
  const sEnd = str.length;

  while (p < pEnd && s < sEnd) {
    const c = pattern[p]!;
    if (c === STAR) {
      while (p + 1 < pEnd && pattern[p + 1] === STAR) p++;
      if (p + 1 === pEnd) return true;
      while (s < sEnd) {
        if (matchFrom(pattern, p + 1, str, s, skipLonger, nesting + 1)) return true;
        // The rest of the pattern matched nowhere in the rest of the string: a longer match for
        // an earlier star cannot help either.
        if (skipLonger.value) return false;
        s++;
      }
      skipLonger.value = true;
      return false;
    }
    if (c === QUESTION) {
      s++;
    } else if (c === OPEN) {
      p++;
      const not = p < pEnd && pattern[p] === CARET;
      if (not) p++;
      let match = false;
      const sc = str[s]!;
      for (;;) {
        if (p >= pEnd) {
          // Unterminated class: it runs to the end of the pattern (Redis steps back so the
          // common `p++` below lands exactly on the end).
          p--;
          break;
        }
        const pc = pattern[p]!;
        if (pc === BACKSLASH && pEnd - p >= 2) {
          p++;
          if (pattern[p] === sc) match = true;
        } else if (pc === CLOSE) {
          break;
        } else if (pEnd - p >= 3 && pattern[p + 1] === DASH) {
          let start = signed(pc);
          let end = signed(pattern[p + 2]!);
          if (start > end) [start, end] = [end, start];
          const v = signed(sc);
          p += 2;
          if (v >= start && v <= end) match = true;
        } else if (pc === sc) {
          match = true;
        }
        p++;
      }
      if (not) match = !match;
      if (!match) return false;
      s++;
    } else {
      if (c === BACKSLASH && pEnd - p >= 2) p++;
      if (pattern[p] !== str[s]) return false;
      s++;
    }
    p++;
    if (s === sEnd) {
      while (p < pEnd && pattern[p] === STAR) p++;
      break;
    }
  }
  return p === pEnd && s === sEnd;
}
