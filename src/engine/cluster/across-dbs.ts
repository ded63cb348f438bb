// Which database of each side a copy or verify across topologies reads and writes. A cluster has
// db 0 only, so exactly one source database is involved: a cluster's db 0, or the one database of a
// standalone server (a URL's /N, --db N, or the only database holding keys) landing in db 0 of a
// cluster target: db 0 itself, or a URL pair /N -> /0, as the planner's db blocker says. Anything else is refused before a server is written to, naming the databases.
import { parseInfo, parseKeyspace } from '../../probe/info.js';
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { UserError } from '../../util/errors.js';
import type { DbMapping } from '../db-mapping.js';
import { respInfo } from '../identity/guard.js';
import { RespConnection } from '../resp/connection.js';
import { type KeyHolders, keyHolders } from './nodes.js';

export interface AcrossDbs {
  sourceDb: number;
  targetDb: number;
}

/**
 * `sourceKeyDbs`: the standalone source's databases holding keys (from INFO keyspace); ignored for
 * a cluster source.
 */
export function acrossDbs(
  source: { endpoint: Endpoint; cluster: boolean; keyDbs: readonly number[] },
  target: { endpoint: Endpoint; cluster: boolean },
  mapping: DbMapping,
): AcrossDbs {
  const chosen =
    mapping.dbs === 'all'
      ? source.cluster
        ? [0]
        : source.keyDbs.length
          ? [...source.keyDbs]
          : [0]
      : mapping.dbs;
  if (chosen.length !== 1) {
    throw new UserError(
      `${describeEndpoint(source.endpoint)} has keys in ${chosen.map((d) => `db${d}`).join(', ')} and a ` +
        'Redis Cluster has db 0 only, so one copy or verify takes one source database: name it in the URLs ' +
        '(e.g. redis://host:port/3 for the source and /0 for a standalone target) or with --db, and run once per database',
    );
  }
  const sourceDb = chosen[0]!;
  const targetDb = mapping.remap?.to ?? sourceDb;
  if (source.cluster && sourceDb !== 0) {
    throw new UserError(
      `the source ${describeEndpoint(source.endpoint)} is a Redis Cluster, which has db 0 only, not db ${sourceDb}: ` +
        'drop the database from the source URL (or --db)',
    );
  }
  if (target.cluster && targetDb !== 0) {
    throw new UserError(
      `the target ${describeEndpoint(target.endpoint)} is a Redis Cluster, which has db 0 only, and db ${sourceDb} ` +
        `of the source would land in db ${targetDb}: name the target database /0 in its URL ` +
        `(redis://host:port/0) to copy db ${sourceDb} into the cluster's db 0`,
    );
  }
  return { sourceDb, targetDb };
}

export interface AcrossSides extends AcrossDbs {
  source: KeyHolders;
  target: KeyHolders;
}

/** Both sides' key holders and the database pair (reads the topology and a standalone source's keyspace). */
export async function resolveAcross(
  source: Endpoint,
  target: Endpoint,
  mapping: DbMapping,
): Promise<AcrossSides> {
  const [src, dst] = await Promise.all([keyHolders(source), keyHolders(target)]);
  const keyDbs = src.cluster ? [] : await keyDatabases(source);
  const dbs = acrossDbs(
    { endpoint: source, cluster: src.cluster, keyDbs },
    { endpoint: target, cluster: dst.cluster },
    mapping,
  );
  return { ...dbs, source: src, target: dst };
}

/** The databases of a standalone server that hold keys. */
async function keyDatabases(endpoint: Endpoint): Promise<number[]> {
  const conn = await RespConnection.open(endpoint, { role: 'db-check' });
  try {
    return parseKeyspace(parseInfo(await respInfo(conn)('keyspace')))
      .filter((k) => k.keys > 0)
      .map((k) => k.db);
  } finally {
    conn.destroy();
  }
}
