// Server locks: at most one active migration per server, whichever side of it the server is on, so
// two live syncs never write into one target and a reverse migration never overwrites a source
// that another one still reads. A lock is keyed on the resolved server (address and port, resolved
// by the caller) and the databases the migration touches, never on an endpoint's name, so two
// names for one server share the lock.
//
// A lock unit is "<address>:<port>/<db>", or "<address>:<port>/*" for every database (replication,
// or a copy of all databases). Two units conflict when they name the same server and the same db,
// or either is "*". Units are taken in the commit that creates the migration and given back in the
// commit that ends it (see scripts.ts), so holding them never outlives the migration by more than a
// crash between two writes; a lock whose migration is gone can be cleared by an approver.
import type { StrategyName } from '../planner/types.js';
import { UserError } from '../util/errors.js';
import type { Migration } from './model.js';

/** A server as resolved from an endpoint: an IP address and a port. */
export interface ServerAddress {
  address: string;
  port: number;
}

export const EVERY_DB = '*';

/** "10.0.0.5:6379", "[::1]:6379". */
export function serverKey(server: ServerAddress): string {
  return server.address.includes(':')
    ? `[${server.address}]:${server.port}`
    : `${server.address}:${server.port}`;
}

/** The lock units of one server for a migration of `dbs` by `strategy`. */
export function lockUnits(
  server: ServerAddress,
  strategy: StrategyName,
  dbs: 'all' | readonly number[],
): string[] {
  const key = serverKey(server);
  // Replication replaces the whole dataset of the target and reads all of the source.
  if (strategy === 'replication' || dbs === 'all') return [`${key}/${EVERY_DB}`];
  return [...new Set(dbs)].sort((a, b) => a - b).map((db) => `${key}/${db}`);
}

/** "10.0.0.5:6379/0" -> { server: "10.0.0.5:6379", db: "0" }; undefined for anything else. */
export function parseLockUnit(unit: string): { server: string; db: string } | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]:\d{1,5}|[0-9A-Za-z.-]+:\d{1,5})\/(\*|\d{1,6})$/.exec(unit);
  return m ? { server: m[1]!, db: m[2]! } : undefined;
}

/** Whether `text` is a server as lock units name it ("10.0.0.5:6379", "[::1]:6379"). */
export function isServerKey(text: string): boolean {
  return parseLockUnit(`${text}/*`) !== undefined;
}

export function describeLockUnit(unit: string): string {
  const parsed = parseLockUnit(unit);
  if (!parsed) return unit;
  return parsed.db === EVERY_DB ? `${parsed.server} (every database)` : `${parsed.server} db ${parsed.db}`;
}

/** Who holds a lock unit: the migration's id, and its document unless it is gone. */
export interface LockHolder {
  unit: string;
  migrationId: string;
  migration?: Migration;
}

/** A lock is stale when its migration is gone or has ended (its lock should have gone with it). */
export function isStale(holder: LockHolder, terminal: (m: Migration) => boolean): boolean {
  return !holder.migration || terminal(holder.migration);
}

/** The CLI and Slack commands that clear a stale lock, for messages. */
export function unlockHint(server: string): string {
  return (
    `an approver can clear it with \`migration-buddy unlock ${server} --as <user>\`, or in Slack with ` +
    '`/migrate unlock <endpoint>` naming that server'
  );
}

/** Creating (or reopening) a migration was refused: a server it needs is held by another one. */
export class LockHeldError extends UserError {
  constructor(
    readonly holder: LockHolder,
    readonly stale: boolean,
  ) {
    super(lockHeldMessage(holder, stale), 1);
    this.name = 'LockHeldError';
  }
}

export function lockHeldMessage(holder: LockHolder, stale: boolean): string {
  const server = parseLockUnit(holder.unit)?.server ?? holder.unit;
  const what = describeLockUnit(holder.unit);
  const m = holder.migration;
  if (stale) {
    return (
      `${what} is locked by migration ${holder.migrationId}, which ${m ? `has ended (${m.status})` : 'no longer exists'}; ` +
      `${unlockHint(server)}, then plan again`
    );
  }
  return (
    `${what} is in use by migration ${holder.migrationId} (${m!.source} -> ${m!.target}, ${m!.status}, requested by ` +
    `${m!.requester}); only one migration at a time may use a server, as source or target: wait for it to ` +
    `end, or abort it, then plan again`
  );
}
