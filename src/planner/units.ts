// Number formatting for plan messages. Deterministic (fixed locale), so plans are reproducible.

import { formatBinaryBytes } from '../util/byte-size.js';

/** Bytes in MiB with one decimal, e.g. "250.3 MiB" (Redis' own "M" and "mb" are MiB too). */
export function formatMib(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/** Bytes in the largest fitting binary unit, e.g. "512 B", "3.2 KiB", "64.0 MiB", "1.5 GiB". */
export const formatBytes = formatBinaryBytes;

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** Seconds as "1.5 s", "45 s", "3 min", "2 h 5 min". */
export function formatDuration(seconds: number): string {
  // Short spans keep a decimal, so "1.5 s" and "1 s" are not both shown as "1 s".
  if (seconds < 10) return `${Number(Math.max(0, seconds).toFixed(1))} s`;
  const s = Math.round(seconds);
  if (s < 90) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 120) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

/** "db 0", "db 0, 3". */
export function formatDbs(dbs: readonly number[]): string {
  return dbs.length === 0 ? 'no db' : `db ${dbs.join(', ')}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
