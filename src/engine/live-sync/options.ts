// What a LiveSync is given, and the defaults of its limits (one place for them).

import type { Logger } from '../../util/logger.js';
import type { DbRemap } from '../db-mapping.js';
import type { ServerIdentity } from '../identity/index.js';
import type { Copier } from './copier.js';
import type { LiveSyncError } from './live-sync-error.js';
import type { ReconcileResult } from './reconcile.js';
import type { LiveSyncStatus } from './status.js';

export interface LiveSyncOptions {
  /** Databases to follow; 'all' follows every db. */
  dbs: 'all' | number[];
  /** Source db -> another target db (engine/db-mapping.ts); changes are applied there. */
  remap?: DbRemap;
  /** Only keys matching this Redis glob (same rules as SCAN MATCH, on raw bytes). */
  match?: string;
  /**
   * When notify-keyspace-events lacks what live sync needs, set it with CONFIG SET (and restore the
   * old value at stop) instead of failing. Managed services block CONFIG: use their parameter groups.
   */
  enableNotifications?: boolean;
  /**
   * Skip the notify-keyspace-events check. Only for sources where neither CONFIG GET nor the canary
   * write works and someone has checked the setting by other means.
   */
  trustNotifyConfig?: boolean;
  /** Run a reconcile pass right after subscribing (e.g. when resuming after a crash). */
  reconcileOnStart?: boolean;
  /**
   * Collect changes without applying them until startApplying() (while the bulk copy runs: applying
   * concurrently with it could let the bulk copy overwrite a newer value with an older one).
   */
  holdApply?: boolean;
  /** Keys per copyKeySet call, and per SCAN round of the reconcile pass (default 512). */
  batchSize?: number;
  /** Batches applied at once, never two holding the same key (default 3). */
  concurrency?: number;
  /** Bound of the dirty set; beyond it the set is dropped and a reconcile pass runs (default 250000). */
  maxDirtyKeys?: number;
  /** Reconnect attempts of the subscriber before giving up (default 20, about 35 s). */
  maxReconnects?: number;
  /** Consecutive failed batches or reconcile passes before giving up (default 8). */
  maxApplyFailures?: number;
  /** How often to look for keys vanishing without notifications (default 5000 ms; 0 = never). */
  keyspaceCheckIntervalMs?: number;
  /** How often onStatus is called (default 1000 ms). */
  statusIntervalMs?: number;
  onStatus?: (status: LiveSyncStatus) => void;
  /** Called once when live sync gives up; drain() and waiters reject with the same error. */
  onError?: (error: LiveSyncError) => void;
  signal?: AbortSignal;
  logger?: Logger;
  mode?: 'auto' | 'dump' | 'by-type';
  bigKeyThresholdBytes?: number;
  /** Hashes with field TTLs go to a target without them as persistent fields, instead of being refused. */
  dropFieldTtls?: boolean;
  /** Defaults to the copy engine (src/engine/copy). */
  copier?: Copier;
  /**
   * Who the source was when the migration started (see src/engine/identity). Checked at start, on
   * every keyspace check, before every batch and before a reconcile pass's writes and deletions:
   * a source that became a replica, restarted or was flushed fails live sync instead of being
   * followed. Default: the source as it is at start().
   */
  sourceIdentity?: ServerIdentity;
  /** Set by LiveSyncAcross (across.ts): this live sync follows one node into another topology. */
  across?: AcrossNode;
}

/** One source node followed into a target of another topology (a cluster on either side). */
export interface AcrossNode {
  /** The source is a primary of a cluster (its identity is read as a cluster node's). */
  clusterNode: boolean;
  /** A hash tag of one of the node's slots, for the canary keys (notify-setup.ts). */
  canaryTag?: string | undefined;
  /** The reconcile pass across topologies (reconcile-across.ts), in place of the one-server pass. */
  reconcile(signal: AbortSignal, beforeDeletes: () => Promise<void>): Promise<ReconcileResult>;
}

export type LiveSyncLimits = Required<
  Pick<
    LiveSyncOptions,
    | 'batchSize'
    | 'concurrency'
    | 'maxDirtyKeys'
    | 'maxReconnects'
    | 'maxApplyFailures'
    | 'keyspaceCheckIntervalMs'
    | 'statusIntervalMs'
  >
>;

export function limitsOf(options: LiveSyncOptions): LiveSyncLimits {
  return {
    batchSize: options.batchSize ?? 512,
    concurrency: Math.max(1, options.concurrency ?? 3),
    maxDirtyKeys: options.maxDirtyKeys ?? 250_000,
    maxReconnects: options.maxReconnects ?? 20,
    maxApplyFailures: options.maxApplyFailures ?? 8,
    keyspaceCheckIntervalMs: options.keyspaceCheckIntervalMs ?? 5000,
    statusIntervalMs: options.statusIntervalMs ?? 1000,
  };
}
