// The one place that decides which databases a migration copies and where each lands: plan,
// copy, verify, live sync and every strategy take the mapping computed here.
import type { Endpoint } from '../redis/endpoint.js';
import { UserError } from '../util/errors.js';

/** A source database copied into a target database of another number (from the URLs). */
export interface DbRemap {
  from: number;
  to: number;
}

/** Which source databases are copied, and where. */
export interface DbMapping {
  /** 'all' = every database with keys (each into the same number); else these source dbs. */
  dbs: 'all' | number[];
  /** Set when a URL names the source database and the target URL another one. */
  remap?: DbRemap;
}

/**
 * From the URLs' databases and `--db` (undefined when not given). A database in the source URL
 * selects it: `/3` -> `/5` copies db 3 into db 5 only; `/0` on both sides copies db 0 only. Without
 * one, every database maps to itself. `--db` goes only with URLs that name no database.
 */
export function dbMapping(
  source: Pick<Endpoint, 'urlDb'>,
  target: Pick<Endpoint, 'urlDb'>,
  dbFlag: 'all' | number[] | undefined,
): DbMapping {
  const from = source.urlDb;
  const to = target.urlDb;
  if (dbFlag !== undefined && (from !== undefined || to !== undefined)) {
    throw new UserError(
      `--db conflicts with the database in the ${from !== undefined ? 'source' : 'target'} URL ` +
        `(/${from ?? to}): the URL's database already selects what is copied. Drop --db, or drop the ` +
        '/N from both URLs to choose databases with --db',
    );
  }
  if (from === undefined && to !== undefined) {
    throw new UserError(
      `the target URL names database ${to} but the source URL names none: add the source database ` +
        `(e.g. redis://host:port/${to}) to copy one database into db ${to}, or drop /${to} from the ` +
        'target URL to copy every database into the same number',
    );
  }
  if (from === undefined) return { dbs: dbFlag ?? 'all' };
  const target_ = to ?? from;
  return target_ === from ? { dbs: [from] } : { dbs: [from], remap: { from, to: target_ } };
}

/** The target database a source database is copied into. */
export function targetDbOf(mapping: { remap?: DbRemap | undefined }, sourceDb: number): number {
  return mapping.remap && mapping.remap.from === sourceDb ? mapping.remap.to : sourceDb;
}

/** The source database whose keys land in a target database (for target-side facts). */
export function sourceDbOf(mapping: { remap?: DbRemap | undefined }, targetDb: number): number | undefined {
  if (!mapping.remap) return targetDb;
  if (targetDb === mapping.remap.to) return mapping.remap.from;
  // Under a remap only one database is copied, so no other target database is involved.
  return undefined;
}

/** The target databases a selection of source databases lands in. */
export function targetDbsOf(
  mapping: { remap?: DbRemap | undefined },
  dbs: 'all' | readonly number[],
): 'all' | number[] {
  return dbs === 'all' ? 'all' : dbs.map((d) => targetDbOf(mapping, d));
}

/** A remap comes with exactly its one source database (as dbMapping builds it); else a caller bug. */
export function checkMapping(mapping: { dbs: 'all' | readonly number[]; remap?: DbRemap | undefined }): void {
  const { dbs, remap } = mapping;
  if (remap && (dbs === 'all' || dbs.length !== 1 || dbs[0] !== remap.from)) {
    throw new Error(
      `db remap ${remap.from}->${remap.to} needs dbs [${remap.from}], got ${JSON.stringify(dbs)}`,
    );
  }
}

/** A remap read back from stored step parameters (`dbRemap`), or undefined when none is there. */
export function remapFromParams(params: Record<string, unknown>): DbRemap | undefined {
  const value = params.dbRemap as Partial<DbRemap> | undefined | null;
  if (!value || typeof value !== 'object') return undefined;
  const { from, to } = value;
  if (!Number.isInteger(from) || !Number.isInteger(to) || (from as number) < 0 || (to as number) < 0) {
    throw new Error(`step parameter dbRemap is malformed: ${JSON.stringify(value)}`);
  }
  return { from: from as number, to: to as number };
}
