// How many elements a chunked read of a big value asks for, and how many bytes of the reply it
// keeps: as many elements as fit in READ_BYTES, judged by the biggest element of the last read.
// A read cut off by the byte cap asks again with fewer; a single element bigger than READ_BYTES is
// read on its own without a cap (there is no GETRANGE for list elements or set members), so memory
// stays bounded by max(READ_BYTES, the biggest element) per read.

/** Bytes one chunked read asks for, and keeps, at most (per server). */
export const READ_BYTES = 2 * 1024 * 1024;
/**
 * Elements asked for before anything is known about their sizes: one, since the value is known
 * to be big and its elements may be too (the next read adapts at once).
 */
const FIRST_COUNT = 1;

export interface ReadSizer {
  /** Elements to ask for next. */
  readonly count: number;
  /** Byte cap for the next read's reply (Infinity: one element bigger than READ_BYTES). */
  readonly cap: number;
  /** After a read: its biggest element (drained ones included), and whether the cap cut it. */
  saw(biggest: number, cut?: boolean): void;
}

/** `biggestSeen`: the biggest element already seen of this value (a cut first chunk), if any. */
export function readSizer(maxCount: number, biggestSeen?: number): ReadSizer {
  let count = Math.min(maxCount, FIRST_COUNT);
  let uncapped = false;
  const sizer: ReadSizer = {
    get count() {
      return count;
    },
    get cap() {
      return uncapped ? Number.POSITIVE_INFINITY : READ_BYTES;
    },
    saw(biggest: number, cut = false) {
      if (biggest > READ_BYTES) {
        count = 1;
        // The next element is likely as big: read it whole rather than drain it first.
        uncapped = true;
        return;
      }
      const next = Math.max(1, Math.min(maxCount, Math.floor(READ_BYTES / Math.max(1, biggest))));
      // Cut although no fewer can be asked for: SSCAN/HSCAN return whole hash buckets, so COUNT
      // is a floor, not a limit. Read that page whole (a few elements over the budget).
      uncapped = cut && next >= count;
      count = Math.min(next, cut ? count : next);
    },
  };
  if (biggestSeen !== undefined) sizer.saw(biggestSeen);
  return sizer;
}
