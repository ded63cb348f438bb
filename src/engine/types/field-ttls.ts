// Per-field TTLs of hashes (HPEXPIRE & co: Redis >= 7.4, Valkey >= 9). Read as absolute Unix ms
// (HPEXPIRETIME) and written back with HPEXPIREAT, so the time a copy takes adds no drift. Shared
// by the copy engine (by-type and chunked hashes) and by verification.

import { FIELD_TTL_PROBE_KEY, fieldTtlsFromProbeError } from '../../probe/field-ttls.js';
import type { CommandRunner } from '../resp/connection.js';
import { type RespArg, RespError, type RespReply } from '../resp/reply.js';

/** Fields per HPEXPIRETIME / HPEXPIREAT command, so no single command gets huge. */
const FIELDS_PER_COMMAND = 1024;

/** HPEXPIRETIME's answer for a field without a TTL, and for a field (or key) that is gone. */
export const FIELD_PERSISTENT = -1;
export const FIELD_MISSING = -2;

/**
 * Whether this server has per-field TTLs, by asking it (not by version: Valkey 9 has them and
 * still reports redis_version 7.2.4); see fieldTtlsFromProbeError for what counts as no.
 */
export async function supportsFieldTtls(runner: CommandRunner): Promise<boolean> {
  const [reply] = await runner.exec([['HPEXPIRETIME', FIELD_TTL_PROBE_KEY, 'FIELDS', 1, 'f']]);
  return fieldTtlsFromProbeError(reply instanceof RespError ? reply.message : null);
}

/** The commands that read the expiry of `fields` of `key`, FIELDS_PER_COMMAND at a time. */
export function fieldExpiryReads(key: Buffer, fields: readonly Buffer[]): RespArg[][] {
  const out: RespArg[][] = [];
  for (let i = 0; i < fields.length; i += FIELDS_PER_COMMAND) {
    const part = fields.slice(i, i + FIELDS_PER_COMMAND);
    out.push(['HPEXPIRETIME', key, 'FIELDS', part.length, ...part]);
  }
  return out;
}

/**
 * The replies of fieldExpiryReads (in order) as one expiry per field: absolute ms, -1 persistent,
 * -2 gone. Throws with the server's words when a reply is an error (WRONGTYPE: the key changed).
 */
export function parseFieldExpiries(replies: readonly RespReply[], fieldCount: number): number[] {
  const out: number[] = [];
  for (const reply of replies) {
    if (reply instanceof RespError) throw new Error(`HPEXPIRETIME: ${reply.message}`);
    if (!Array.isArray(reply)) throw new Error('HPEXPIRETIME: unexpected reply');
    for (const r of reply) out.push(typeof r === 'number' ? r : FIELD_MISSING);
  }
  if (out.length !== fieldCount)
    throw new Error(`HPEXPIRETIME: ${out.length} answers for ${fieldCount} fields`);
  return out;
}

/**
 * Reads the expiry of every field of each hash (pipelined over all of them): per hash the
 * expiries, or an Error with the server's words (WRONGTYPE when the key changed meanwhile).
 */
export async function readFieldExpiries(
  runner: CommandRunner,
  hashes: readonly { key: Buffer; fields: readonly Buffer[] }[],
): Promise<(number[] | Error)[]> {
  const cmds: RespArg[][] = [];
  const spans: number[] = [];
  for (const h of hashes) {
    const reads = fieldExpiryReads(h.key, h.fields);
    spans.push(reads.length);
    cmds.push(...reads);
  }
  if (cmds.length === 0) return hashes.map(() => []);
  const replies = await runner.exec(cmds);
  let at = 0;
  return hashes.map((h, i) => {
    const mine = replies.slice(at, at + spans[i]!);
    at += spans[i]!;
    try {
      return parseFieldExpiries(mine, h.fields.length);
    } catch (err) {
      return err as Error;
    }
  });
}

/** Fields of `entries` (field, value, field, value, ...). */
export function hashFields(entries: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < entries.length; i += 2) out.push(entries[i]!);
  return out;
}

/** How many of these expiries are TTLs (not persistent, not gone). */
export function countFieldTtls(expiries: readonly number[]): number {
  let n = 0;
  for (const e of expiries) if (e >= 0) n++;
  return n;
}

/**
 * HPEXPIREAT commands giving `fields` of `key` their expiries (absolute ms), fields with the same
 * time in one command. Persistent and gone fields get none. A time already past deletes the
 * field on the target, as it has expired on the source.
 */
export function fieldExpiryWrites(
  key: Buffer,
  fields: readonly Buffer[],
  expiries: readonly number[],
): RespArg[][] {
  const byTime = new Map<number, Buffer[]>();
  fields.forEach((field, i) => {
    const at = expiries[i]!;
    if (at < 0) return;
    const same = byTime.get(at);
    if (same) same.push(field);
    else byTime.set(at, [field]);
  });
  const out: RespArg[][] = [];
  for (const [at, list] of byTime) {
    for (let i = 0; i < list.length; i += FIELDS_PER_COMMAND) {
      const part = list.slice(i, i + FIELDS_PER_COMMAND);
      out.push(['HPEXPIREAT', key, at, 'FIELDS', part.length, ...part]);
    }
  }
  return out;
}
