// Number formatting for plan messages. Deterministic (fixed locale), so plans are reproducible.

const MB = 1024 * 1024;

/** Bytes as megabytes with one decimal, e.g. "250.3 MB" (Redis' own "M" is MiB too). */
export function formatMb(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

/** Bytes in the largest fitting unit, e.g. "512 B", "3.2 KB", "64.0 MB", "1.5 GB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < MB) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 * MB) return formatMb(bytes);
  return `${(bytes / (1024 * MB)).toFixed(1)} GB`;
}

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
