// How RDB entries reach a target: RESTORE of their payloads when the target reads the RDB's
// version, else by type (native commands from the decoded values) on Redis 6.2+. One decision
// for every writer of RDB entries (import, the psync strategy's full sync).
import { parseFlavor, parseInfo, parseVersion } from '../../probe/info.js';
import { rdbAccepted, rdbVersionForServer } from '../../probe/rdb-version.js';
import { describeEndpoint } from '../../redis/endpoint.js';
import { ExitCode, UserError } from '../../util/errors.js';
import type { RespConnection } from '../resp/connection.js';
import { replyText } from '../resp/reply.js';
import { supportsFieldTtls } from '../types/field-ttls.js';
import { featuresForVersion } from '../types/value.js';
import { type ByTypeFeatures, ByTypeWriter } from './by-type-writer.js';
import type { EntryWriter } from './entry-writer.js';
import { RestoreWriter, type RestoreWriterOptions } from './restore-writer.js';

export type WriteMethod =
  | { method: 'restore'; reason: null }
  /** `reason` says why, for the plan and the report. */
  | { method: 'by-type'; reason: string; features: ByTypeFeatures };

/**
 * The method for payloads of RDB version `rdb` onto this target. Throws UserError (nothing
 * written yet) for a target that can do neither: older than 6.2 (no SET PXAT, no XGROUP
 * CREATECONSUMER) facing a newer RDB.
 */
export async function chooseWriteMethod(
  dst: RespConnection,
  rdb: number,
  /** What holds the RDB, for the reason: 'the file', "the source's full sync". */
  what = 'the file',
): Promise<WriteMethod> {
  const { version, flavor, flavorVersion, rdb: targetRdb } = await serverRdb(dst);
  if (rdbAccepted(rdb, { flavor, rdbVersion: targetRdb })) return { method: 'restore', reason: null };
  const name = flavor === 'valkey' ? `Valkey ${flavorVersion ?? version}` : `Redis ${version}`;
  const [major, minor] = parseVersion(version);
  if (major > 6 || (major === 6 && minor >= 2)) {
    return {
      method: 'by-type',
      reason:
        `the target (${name}) reads RDB ${targetRdb} and ${what} is RDB ${rdb}: RESTORE would refuse its ` +
        'payloads, so values are decoded and written with native commands',
      features: { ...featuresForVersion(version), fieldTtls: await supportsFieldTtls(dst) },
    };
  }
  throw new UserError(
    `target ${describeEndpoint(dst.endpoint)} (${name}, RDB ${targetRdb}) cannot read RDB ${rdb} values, ` +
      'and writing them by type needs Redis 6.2 or newer: nothing was written. Use a target that reads that ' +
      "version (the same release line as the RDB's writer or newer)",
    ExitCode.problem,
  );
}

/** The RDB version a server writes (its full syncs, its DUMP payloads), from INFO server. */
export async function serverRdbVersion(conn: RespConnection): Promise<number> {
  return (await serverRdb(conn)).rdb;
}

async function serverRdb(
  conn: RespConnection,
): Promise<{ version: string; flavor: string; flavorVersion: string | undefined; rdb: number }> {
  const info = parseInfo(replyText(await conn.call('INFO', 'server')) ?? '');
  const version = info['server']?.['redis_version'] ?? '0.0.0';
  const { flavor, flavorVersion } = parseFlavor(info);
  return { version, flavor, flavorVersion, rdb: rdbVersionForServer(version, flavor, flavorVersion) };
}

export interface EntryWriterOptions extends RestoreWriterOptions {
  /** By type onto a target without field TTLs: hashes with field TTLs get persistent fields. */
  dropFieldTtls?: boolean;
}

export function createEntryWriter(
  dst: RespConnection,
  method: WriteMethod,
  options: EntryWriterOptions,
): EntryWriter {
  if (method.method === 'restore') return new RestoreWriter(dst, options);
  return new ByTypeWriter(dst, { ...options, features: method.features });
}
