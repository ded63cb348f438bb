// The four connections one verification holds (a scan connection and a read connection per side,
// so the next SCAN page is fetched while a page is compared) and which databases they look at.
import type { Endpoint } from '../../redis/endpoint.js';
import { UserError } from '../../util/errors.js';
import { targetDbOf } from '../db-mapping.js';
import { RespConnection } from '../resp/connection.js';
import { RespError } from '../resp/reply.js';
import type { DbCounts, VerifyOptions } from './types.js';

export interface Connections {
  source: RespConnection;
  sourceScan: RespConnection;
  target: RespConnection;
  targetScan: RespConnection;
}

type Mapping = Pick<VerifyOptions, 'dbs' | 'remap'>;

export async function openConnections(source: Endpoint, target: Endpoint): Promise<Connections> {
  // allSettled, not all: when one fails, the others must still be closed once they open.
  const results = await Promise.allSettled([
    RespConnection.open(source, { role: 'verify-source' }),
    RespConnection.open(source, { role: 'verify-source-scan' }),
    RespConnection.open(target, { role: 'verify-target' }),
    RespConnection.open(target, { role: 'verify-target-scan' }),
  ]);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    for (const r of results) if (r.status === 'fulfilled') r.value.destroy();
    throw failed.reason;
  }
  const [s, ss, t, ts] = results.map((r) => (r as PromiseFulfilledResult<RespConnection>).value);
  return { source: s!, sourceScan: ss!, target: t!, targetScan: ts! };
}

export function closeConnections(conns: Connections): void {
  for (const c of Object.values(conns)) c.destroy();
}

/** The databases to check, with key counts from INFO keyspace on both sides. */
export async function databasesToCheck(conns: Connections, mapping: Mapping): Promise<DbCounts[]> {
  const [src, tgt] = await Promise.all([keyspace(conns.source), keyspace(conns.target)]);
  let dbs: number[];
  if (mapping.dbs === 'all') {
    dbs = [...new Set([...src.keys(), ...tgt.keys()])].sort((a, b) => a - b);
  } else {
    dbs = [...new Set(mapping.dbs)].sort((a, b) => a - b);
  }
  return dbs.map((db) => {
    const targetDb = targetDbOf(mapping, db);
    const s = src.get(db);
    const t = tgt.get(targetDb);
    return {
      db,
      ...(targetDb !== db ? { targetDb } : {}),
      sourceKeys: s?.keys ?? 0,
      targetKeys: t?.keys ?? 0,
      sourceExpires: s?.expires ?? 0,
      targetExpires: t?.expires ?? 0,
    };
  });
}

/** Points every connection at source database `db` and the target database it maps to. */
export async function selectDb(conns: Connections, mapping: Mapping, db: number): Promise<void> {
  const targetDb = targetDbOf(mapping, db);
  try {
    const { source, sourceScan, target, targetScan } = conns;
    await Promise.all([
      source.select(db),
      sourceScan.select(db),
      target.select(targetDb),
      targetScan.select(targetDb),
    ]);
  } catch (err) {
    const which = targetDb === db ? `${db}` : `${db} (target db ${targetDb})`;
    throw new UserError(`cannot select database ${which}: ${(err as Error).message}`);
  }
}

/** INFO keyspace -> db -> keys/expires. */
async function keyspace(conn: RespConnection): Promise<Map<number, { keys: number; expires: number }>> {
  const [reply] = await conn.exec([['INFO', 'keyspace']]);
  if (reply instanceof RespError)
    throw new UserError(`${conn.where}: INFO keyspace failed: ${reply.message}`);
  const text = Buffer.isBuffer(reply) ? reply.toString() : String(reply);
  const out = new Map<number, { keys: number; expires: number }>();
  for (const m of text.matchAll(/^db(\d+):keys=(\d+),expires=(\d+)/gm)) {
    out.set(Number(m[1]), { keys: Number(m[2]), expires: Number(m[3]) });
  }
  return out;
}
