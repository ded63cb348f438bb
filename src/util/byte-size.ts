// Byte sizes as people and Redis write them. One reading for every caller, Redis' own (memtoll in
// redis/src/util.c, documented at the top of redis.conf): a bare letter is decimal, a letter with
// "b" is binary, so "1k" = 1000 and "1kb" = 1024, "1m" = 1000000 and "1mb" = 1048576, likewise g/gb.
// The IEC spellings (kib, mib, gib) mean the binary sizes too; letters are case-insensitive.

const FACTORS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1024,
  kib: 1024,
  m: 1000 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** The units a size may end in, for help and error texts. */
export const BYTE_SIZE_UNITS_TEXT =
  'k = 1000, kb = kib = 1024; m = 1000², mb = mib = 1024²; g, gb, gib alike';

/**
 * "1048576", "500k", "64mb", "64MiB", "1.5gb" -> bytes (rounded down), or null when it is not a size.
 * A fraction is accepted for people; Redis itself only ever writes whole numbers.
 */
export function parseByteSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return null;
  const factor = FACTORS[m[2]!.toLowerCase()];
  return factor === undefined ? null : Math.floor(Number(m[1]) * factor);
}

/** Bytes as Redis config accepts them (parseByteSize reads them back), in the largest whole unit. */
export function formatRedisSize(bytes: number): string {
  if (bytes > 0 && bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3}gb`;
  if (bytes > 0 && bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2}mb`;
  if (bytes > 0 && bytes % 1024 === 0) return `${bytes / 1024}kb`;
  return String(bytes);
}

/**
 * Bytes for people in the largest binary unit, labelled as such: "512 B", "3.2 KiB", "64.0 MiB",
 * "1.5 GiB" (Redis' own "mb" and INFO's "M" are these units too, so "MB" would mislabel them).
 */
export function formatBinaryBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(bytes)} B` : `${value.toFixed(1)} ${units[unit]}`;
}
