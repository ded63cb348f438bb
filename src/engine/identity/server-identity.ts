// Who a server is, as far as a migration cares: its role (and master), its run id, and how many
// keys it holds. Captured when a copy or live sync starts and compared again on every reconnect
// and before every destructive action, so a source that became a replica, restarted or was
// flushed is never followed blindly (a replica's full resync or a flush publishes no
// notifications, and a restarted server may come back empty). Pure: unit-tested on INFO text.
import { infoField, parseInfo, parseKeyspace } from '../../probe/info.js';

export interface ServerIdentity {
  /** INFO run_id ('' when the server hides it): changes whenever the process restarts. */
  runId: string;
  role: 'master' | 'replica';
  /** `host:port` of its master, when a replica. */
  master: string | null;
  /** Keys in the databases that matter (INFO keyspace), when captured. */
  keys: number;
  capturedAt: string;
}

export type IdentityChangeKind = 'role' | 'restart' | 'dataset';

export interface IdentityChange {
  kind: IdentityChangeKind;
  /** What changed, in INFO's words: "became a replica of 10.0.0.9:6379". */
  detail: string;
}

/** Sections an identity needs; several INFO sections in one call need Redis 7, so one call each. */
export const IDENTITY_SECTIONS = ['server', 'replication', 'keyspace'] as const;

/** A dataset "collapsed" when fewer than this share of the baseline's keys is left... */
const COLLAPSE_SHARE = 0.5;
/** ...and at least this many keys went (small sets shrink by half in normal use). */
const COLLAPSE_MIN_KEYS = 16;

/** The identity from INFO server + replication + keyspace text; `dbs` selects the keys counted. */
export function parseIdentity(text: string, dbs: 'all' | readonly number[] = 'all'): ServerIdentity {
  const info = parseInfo(text);
  const r = infoField(info, 'role');
  const role = r === 'slave' || r === 'replica' ? 'replica' : 'master';
  const host = infoField(info, 'master_host');
  const port = infoField(info, 'master_port');
  const keys = parseKeyspace(info)
    .filter((d) => dbs === 'all' || dbs.includes(d.db))
    .reduce((n, d) => n + d.keys, 0);
  return {
    runId: infoField(info, 'run_id') ?? '',
    role,
    master: role === 'replica' && host !== undefined ? `${host}:${port ?? '?'}` : null,
    keys,
    capturedAt: new Date().toISOString(),
  };
}

/**
 * How `now` differs from `before` in a way that makes the data no longer the one being migrated,
 * or null. A role change is checked first (a replica's resync also empties it), then a restart,
 * then a key count that collapsed (FLUSHALL, FLUSHDB, a restart the run id hides).
 */
export function identityChange(before: ServerIdentity, now: ServerIdentity): IdentityChange | null {
  const role = roleChange(before, now);
  if (role) return role;
  if (before.runId !== '' && now.runId !== '' && before.runId !== now.runId) {
    return {
      kind: 'restart',
      detail: `restarted (run_id ${short(before.runId)} is now ${short(now.runId)}) and holds ${count(now.keys)}`,
    };
  }
  if (collapsed(before.keys, now.keys)) {
    return {
      kind: 'dataset',
      detail: `lost most of its data: ${count(now.keys)} left of ${before.keys} (flushed?)`,
    };
  }
  return null;
}

/** Only the role part (what INFO replication alone tells): the cheap check before each batch. */
export function roleChange(
  before: Pick<ServerIdentity, 'role' | 'master'>,
  now: Pick<ServerIdentity, 'role' | 'master'>,
): IdentityChange | null {
  if (before.role !== now.role || before.master !== now.master) {
    return {
      kind: 'role',
      detail:
        now.role === 'replica'
          ? `became a replica of ${now.master ?? 'another server'}`
          : before.role === 'replica'
            ? `stopped replicating from ${before.master ?? 'its master'} (it is a master now)`
            : 'changed role',
    };
  }
  return null;
}

/** Fewer than half of `before` keys left, and at least a handful gone. */
export function collapsed(before: number, now: number): boolean {
  return now < before * COLLAPSE_SHARE && before - now >= COLLAPSE_MIN_KEYS;
}

function short(runId: string): string {
  return runId.slice(0, 8);
}

function count(n: number): string {
  return `${n} key${n === 1 ? '' : 's'}`;
}

/** JSON from a checkpoint or a step result back into an identity, or undefined when it is not one. */
export function asIdentity(value: unknown): ServerIdentity | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Partial<ServerIdentity>;
  if (typeof v.runId !== 'string' || (v.role !== 'master' && v.role !== 'replica')) return undefined;
  if (typeof v.keys !== 'number') return undefined;
  return {
    runId: v.runId,
    role: v.role,
    master: typeof v.master === 'string' ? v.master : null,
    keys: v.keys,
    capturedAt: typeof v.capturedAt === 'string' ? v.capturedAt : '',
  };
}
