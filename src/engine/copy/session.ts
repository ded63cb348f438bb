// The connections of a copy (source reader, source scanner, target writer) and the facts about
// both servers the copy needs: versions (stream/function features), key counts,
// proto-max-bulk-len, the source's memory. SCAN has its own connection so the next page is read
// while DUMP replies are still queued on the reader's (a bare DUMP/RESTORE loop on 200k keys here:
// 130k keys/s with SCAN behind the DUMPs, 172k with its own connection).
import { type InfoSections, parseInfo, parseKeyspace } from '../../probe/info.js';
import type { DatabaseStats } from '../../probe/types.js';
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { UserError } from '../../util/errors.js';
import { type DbRemap, targetDbOf } from '../db-mapping.js';
import { readIdentity, respInfo, type ServerIdentity } from '../identity/index.js';
import { RespConnection } from '../resp/connection.js';
import { RespError, replyInt, replyText } from '../resp/reply.js';
import { supportsFieldTtls } from '../types/field-ttls.js';
import { featuresForVersion, type TargetFeatures } from '../types/value.js';
import { type MemoryFacts, readMemoryFacts } from './size-probe.js';

/** Redis' default proto-max-bulk-len, assumed when CONFIG GET is not allowed. */
export const DEFAULT_PROTO_MAX_BULK_LEN = 512 * 1024 * 1024;

export interface ServerFacts {
  version: string;
  /** INFO run_id: tells whether two endpoints are the same server under different names. */
  runId: string | null;
  keyspace: DatabaseStats[];
}

export interface SessionFacts {
  source: ServerFacts;
  target: ServerFacts;
  features: TargetFeatures;
  /** Target's proto-max-bulk-len: no single argument (RESTORE payload) may be longer. */
  targetMaxBulk: number;
  sourceMemory: MemoryFacts;
  /** Which side has hash field TTLs (HPEXPIRETIME/HPEXPIREAT): read from the source, written to the target. */
  fieldTtls: { source: boolean; target: boolean };
}

interface Connections {
  src: RespConnection;
  scan: RespConnection;
  dst: RespConnection;
}

export class CopySession {
  private constructor(
    readonly source: Endpoint,
    readonly target: Endpoint,
    private conns: Connections,
    readonly facts: SessionFacts,
    /** Source db -> target db when they differ (a URL database); the target side selects the mapped one. */
    readonly remap: DbRemap | undefined,
  ) {}

  /** Source connection for DUMP, PTTL, MEMORY USAGE and the by-type reads. */
  get src(): RespConnection {
    return this.conns.src;
  }

  /** Source connection for SCAN only. */
  get scan(): RespConnection {
    return this.conns.scan;
  }

  get dst(): RespConnection {
    return this.conns.dst;
  }

  static async open(source: Endpoint, target: Endpoint, db = 0, remap?: DbRemap): Promise<CopySession> {
    const conns = await openAll(source, target, db, targetDbOf({ remap }, db));
    const { src, dst } = conns;
    try {
      const [sourceFacts, targetFacts, maxBulk, sourceMemory, sourceFieldTtls, targetFieldTtls] =
        await Promise.all([
          serverFacts(src),
          serverFacts(dst),
          protoMaxBulkLen(dst),
          readMemoryFacts(src),
          supportsFieldTtls(src),
          supportsFieldTtls(dst),
        ]);
      if (sourceFacts.runId !== null && sourceFacts.runId === targetFacts.runId) {
        throw new UserError(
          `${describeEndpoint(source)} and ${describeEndpoint(target)} are the same server (same run_id): ` +
            'refusing to copy a server onto itself',
        );
      }
      return new CopySession(
        source,
        target,
        conns,
        {
          source: sourceFacts,
          target: targetFacts,
          features: featuresForVersion(targetFacts.version),
          targetMaxBulk: maxBulk,
          sourceMemory,
          fieldTtls: { source: sourceFieldTtls, target: targetFieldTtls },
        },
        remap,
      );
    } catch (err) {
      destroyAll(conns);
      throw err;
    }
  }

  /** Replaces every connection (after a drop), selecting `db` on each. */
  async reconnect(db: number): Promise<void> {
    destroyAll(this.conns);
    this.conns = await openAll(this.source, this.target, db, this.targetDb(db));
  }

  /** Selects source database `db` and the target database it is copied into. */
  async select(db: number): Promise<void> {
    await Promise.all([this.src.select(db), this.scan.select(db), this.dst.select(this.targetDb(db))]);
  }

  /** The target database source database `db` is copied into. */
  targetDb(db: number): number {
    return targetDbOf(this, db);
  }

  /** Who both servers are now (role, run id, keys in `dbs`). */
  async identities(
    dbs: 'all' | readonly number[],
  ): Promise<{ source: ServerIdentity; target: ServerIdentity }> {
    const [source, target] = await Promise.all([
      readIdentity(respInfo(this.src), dbs),
      readIdentity(respInfo(this.dst), dbs === 'all' ? dbs : dbs.map((d) => this.targetDb(d))),
    ]);
    return { source, target };
  }

  /** Fresh key counts per database (INFO keyspace) of one side. */
  async keyspace(side: 'source' | 'target'): Promise<DatabaseStats[]> {
    const conn = side === 'source' ? this.src : this.dst;
    return parseKeyspace(parseInfo(replyText(await conn.call('INFO', 'keyspace')) ?? ''));
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.conns).map((c) => c.close()));
  }

  destroy(): void {
    destroyAll(this.conns);
  }
}

function destroyAll(conns: Connections): void {
  for (const c of Object.values(conns)) c.destroy();
}

async function openAll(
  source: Endpoint,
  target: Endpoint,
  db: number,
  targetDb: number,
): Promise<Connections> {
  const [src, scan, dst] = await Promise.allSettled([
    RespConnection.open(source, { db, role: 'copy-source' }),
    RespConnection.open(source, { db, role: 'copy-scan' }),
    RespConnection.open(target, { db: targetDb, role: 'copy-target' }),
  ]);
  if (src.status === 'rejected' || scan.status === 'rejected' || dst.status === 'rejected') {
    for (const c of [src, scan, dst]) if (c.status === 'fulfilled') c.value.destroy();
    // The target's failure is reported first when both fail: it is the one people are setting up.
    const failed = [dst, src, scan].find((c) => c.status === 'rejected') as PromiseRejectedResult;
    throw failed.reason;
  }
  return { src: src.value, scan: scan.value, dst: dst.value };
}

async function serverFacts(conn: RespConnection): Promise<ServerFacts> {
  const [server, keyspace] = await conn.exec([
    ['INFO', 'server'],
    ['INFO', 'keyspace'],
  ]);
  const info: InfoSections = parseInfo(
    `${replyText(server ?? null) ?? ''}\n${replyText(keyspace ?? null) ?? ''}`,
  );
  return {
    version: info['server']?.['redis_version'] ?? '0.0.0',
    runId: info['server']?.['run_id'] ?? null,
    keyspace: parseKeyspace(info),
  };
}

async function protoMaxBulkLen(conn: RespConnection): Promise<number> {
  const [reply] = await conn.exec([['CONFIG', 'GET', 'proto-max-bulk-len']]);
  if (reply instanceof RespError || !Array.isArray(reply) || reply.length < 2)
    return DEFAULT_PROTO_MAX_BULK_LEN;
  return replyInt(reply[1]) ?? DEFAULT_PROTO_MAX_BULK_LEN;
}
