// The two connections of a copy (source reader, target writer) and the facts about both servers
// the copy needs: versions (stream/function features), key counts, proto-max-bulk-len.
import { type InfoSections, parseInfo, parseKeyspace } from '../../probe/info.js';
import type { DatabaseStats } from '../../probe/types.js';
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { UserError } from '../../util/errors.js';
import { RespConnection } from '../resp/connection.js';
import { RespError, replyInt, replyText } from '../resp/reply.js';
import { featuresForVersion, type TargetFeatures } from '../types/value.js';

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
}

export class CopySession {
  private constructor(
    readonly source: Endpoint,
    readonly target: Endpoint,
    public src: RespConnection,
    public dst: RespConnection,
    readonly facts: SessionFacts,
  ) {}

  static async open(source: Endpoint, target: Endpoint, db = 0): Promise<CopySession> {
    const [src, dst] = await openPair(source, target, db);
    try {
      const [sourceFacts, targetFacts, maxBulk] = await Promise.all([
        serverFacts(src),
        serverFacts(dst),
        protoMaxBulkLen(dst),
      ]);
      if (sourceFacts.runId !== null && sourceFacts.runId === targetFacts.runId) {
        throw new UserError(
          `${describeEndpoint(source)} and ${describeEndpoint(target)} are the same server (same run_id): ` +
            'refusing to copy a server onto itself',
        );
      }
      return new CopySession(source, target, src, dst, {
        source: sourceFacts,
        target: targetFacts,
        features: featuresForVersion(targetFacts.version),
        targetMaxBulk: maxBulk,
      });
    } catch (err) {
      src.destroy();
      dst.destroy();
      throw err;
    }
  }

  /** Replaces both connections (after a drop), selecting `db` on each. */
  async reconnect(db: number): Promise<void> {
    this.src.destroy();
    this.dst.destroy();
    const [src, dst] = await openPair(this.source, this.target, db);
    this.src = src;
    this.dst = dst;
  }

  async select(db: number): Promise<void> {
    await Promise.all([this.src.select(db), this.dst.select(db)]);
  }

  /** Fresh key counts per database (INFO keyspace) of one side. */
  async keyspace(side: 'source' | 'target'): Promise<DatabaseStats[]> {
    const conn = side === 'source' ? this.src : this.dst;
    return parseKeyspace(parseInfo(replyText(await conn.call('INFO', 'keyspace')) ?? ''));
  }

  async close(): Promise<void> {
    await Promise.all([this.src.close(), this.dst.close()]);
  }

  destroy(): void {
    this.src.destroy();
    this.dst.destroy();
  }
}

async function openPair(
  source: Endpoint,
  target: Endpoint,
  db: number,
): Promise<[RespConnection, RespConnection]> {
  const [src, dst] = await Promise.allSettled([
    RespConnection.open(source, { db, role: 'copy-source' }),
    RespConnection.open(target, { db, role: 'copy-target' }),
  ]);
  if (src.status === 'rejected' || dst.status === 'rejected') {
    if (src.status === 'fulfilled') src.value.destroy();
    if (dst.status === 'fulfilled') dst.value.destroy();
    // The target's failure is reported first when both fail: it is the one people are setting up.
    throw dst.status === 'rejected' ? dst.reason : (src as PromiseRejectedResult).reason;
  }
  return [src.value, dst.value];
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
