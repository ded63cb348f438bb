// What the copy does with hash field TTLs (HPEXPIRE: Redis >= 7.4, Valkey >= 9). DUMP/RESTORE
// between servers of the same RDB format carries them inside the payload. A hash copied by type
// (the target rejects the payload, --by-type, or a big hash in chunks) gets them with HPEXPIREAT
// (absolute ms, so the copy's own time adds no drift). A target without field TTLs would keep
// those fields forever: the copy refuses, up front when INFO keyspace counts such hashes and per
// hash otherwise, unless asked to drop them (--drop-field-ttls): then they are counted.
import { describeEndpoint } from '../../redis/endpoint.js';
import { ExitCode, UserError } from '../../util/errors.js';
import type { CommandRunner } from '../resp/connection.js';
import type { RespArg } from '../resp/reply.js';
import { countFieldTtls, fieldExpiryWrites, readFieldExpiries } from '../types/field-ttls.js';
import type { CopySession } from './session.js';

export interface FieldTtlPolicy {
  /** The source has field TTLs: read them for every hash copied by type. */
  read: boolean;
  /** The target has field TTLs: write them with HPEXPIREAT. */
  write: boolean;
  /** Without `write`: copy such hashes with persistent fields instead of refusing them. */
  drop: boolean;
}

export function fieldTtlPolicy(session: CopySession, drop: boolean | undefined): FieldTtlPolicy {
  const { source, target } = session.facts.fieldTtls;
  return { read: source, write: target, drop: drop === true };
}

export const DROP_HINT =
  'pass --drop-field-ttls to copy those fields without their TTLs (persistent), or use a target that has ' +
  'field TTLs (Redis >= 7.4, Valkey >= 9)';

const REFUSAL_MARK = 'the target has no hash field TTLs (no HPEXPIREAT): not copied';

/** The per-hash refusal: the target cannot hold the TTLs of `fields` fields. */
export function fieldTtlRefusal(fields: number): string {
  return `hash has ${fields} field${fields === 1 ? '' : 's'} with a TTL and ${REFUSAL_MARK}, its fields would never expire; ${DROP_HINT}`;
}

/** A key error that is this refusal (live sync stops on it rather than leave the hash stale). */
export function isFieldTtlRefusal(reason: string): boolean {
  return reason.includes(REFUSAL_MARK);
}

/**
 * Refuses the copy before it writes anything when INFO keyspace on the source counts hashes
 * with field TTLs in `dbs` and the target cannot hold them (and they may not be dropped).
 */
export function refuseFieldTtlLoss(
  session: CopySession,
  dbs: 'all' | readonly number[],
  drop?: boolean,
): void {
  const policy = fieldTtlPolicy(session, drop);
  if (!policy.read || policy.write || policy.drop) return;
  const counted = session.facts.source.keyspace.filter(
    (d) => (d.hashesWithFieldTtls ?? 0) > 0 && (dbs === 'all' || dbs.includes(d.db)),
  );
  if (counted.length === 0) return;
  const total = counted.reduce((n, d) => n + d.hashesWithFieldTtls!, 0);
  const where = counted.map((d) => `db ${d.db}: ${d.hashesWithFieldTtls}`).join(', ');
  throw new UserError(
    `copy refused: ${describeEndpoint(session.source)} has ${total} hash${total === 1 ? '' : 'es'} with ` +
      `per-field TTLs (${where}; counted by INFO keyspace) and ${describeEndpoint(session.target)} has no ` +
      `hash field TTLs (no HPEXPIREAT): nothing was copied. To go ahead, ${DROP_HINT}`,
    ExitCode.problem,
  );
}

export interface HashFieldTtls {
  /** HPEXPIREAT commands to run after the fields are written (empty when none or dropped). */
  writes: RespArg[][];
  /** Fields with a TTL that was dropped (the target has none, --drop-field-ttls). */
  dropped: number;
  /** Set when the hash must not be copied: why. */
  refusal?: string;
}

const NONE: HashFieldTtls = { writes: [], dropped: 0 };

/**
 * The field TTLs of each hash (`key` to write them to, `fields` read from `source`) under the
 * policy, pipelined over all of them. Fields gone meanwhile get nothing (live sync catches up).
 */
export async function hashFieldTtls(
  src: CommandRunner,
  hashes: readonly { source: Buffer; target: Buffer; fields: readonly Buffer[] }[],
  policy: FieldTtlPolicy,
): Promise<HashFieldTtls[]> {
  if (!policy.read || hashes.length === 0) return hashes.map(() => NONE);
  const expiries = await readFieldExpiries(
    src,
    hashes.map((h) => ({ key: h.source, fields: h.fields })),
  );
  return hashes.map((h, i) => {
    const times = expiries[i]!;
    if (times instanceof Error)
      return { writes: [], dropped: 0, refusal: `reading its field TTLs: ${times.message}` };
    const withTtl = countFieldTtls(times);
    if (withTtl === 0) return NONE;
    if (policy.write) return { writes: fieldExpiryWrites(h.target, h.fields, times), dropped: 0 };
    if (policy.drop) return { writes: [], dropped: withTtl };
    return { writes: [], dropped: 0, refusal: fieldTtlRefusal(withTtl) };
  });
}
