// Values of options more than one command takes: database lists and sizes.
import { InvalidArgumentError } from 'commander';
import { BYTE_SIZE_UNITS_TEXT, parseByteSize } from '../../util/byte-size.js';
import { UserError } from '../../util/errors.js';

/** "all" or a comma-separated list of database numbers ("0,3"), as the planner wants it. */
export function parseDbList(text: string): 'all' | number[] {
  const value = text.trim();
  if (value === 'all') return 'all';
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => !/^\d{1,9}$/.test(p))) {
    throw new InvalidArgumentError(`must be "all" or database numbers separated by commas, like 0,3`);
  }
  return [...new Set(parts.map(Number))].sort((a, b) => a - b);
}

/** `--db` as given, or undefined when it was not (the URLs' databases may then select). */
export function dbFlag(text: string | undefined): 'all' | number[] | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDbList(text);
  } catch (err) {
    throw new UserError(`--db ${(err as Error).message}`);
  }
}

/**
 * `--db` of copy and verify: "all" or database numbers in the order given (the copy's checkpoint
 * records them so, and a resume compares them as they were saved).
 */
export function parseDbs(text: string): 'all' | number[] {
  if (text.trim().toLowerCase() === 'all') return 'all';
  const dbs = text.split(',').map((s) => s.trim());
  if (dbs.length === 0 || dbs.some((d) => !/^\d+$/.test(d))) {
    throw new UserError(`--db must be "all" or database numbers separated by commas`);
  }
  return dbs.map(Number);
}

/** A size option ("64mb", "64MiB", "500k", "1048576"), in Redis' units (see util/byte-size). */
export function parseBytes(text: string, option: string): number {
  const bytes = parseByteSize(text);
  if (bytes === null) {
    throw new UserError(`${option} must be a size like 64mb, 500k or 1048576 (${BYTE_SIZE_UNITS_TEXT})`);
  }
  if (bytes < 1) throw new UserError(`${option} must be at least 1 byte`);
  return bytes;
}
