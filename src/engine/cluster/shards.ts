// The per-shard engine of a copy or verify across topologies: one source shard (a cluster primary,
// or its chosen replica; or the one standalone server) at a time, so a job queue can run one child
// job per shard on any number of workers. This module is the contract the jobs code against (keep
// it stable: extend rather than change); the work is in shard-*.ts beside it.
import type { Endpoint } from '../../redis/endpoint.js';
import type { Logger } from '../../util/logger.js';
import type { DbMapping } from '../db-mapping.js';
import type { RedirectCounts } from './router.js';
import type { AcrossDifference } from './verify-across.js';

export interface SourceShard {
  /** The primary's node id; 'standalone' for a standalone source. */
  id: string;
  /** host:port of the primary. */
  primary: string;
  /** host:port scanned: the primary, or the replica chosen. */
  readFrom: string;
  /** The slot ranges the primary serves ([] for standalone). */
  slots: [number, number][];
}

/** A shard's own checkpoint (a job's data, a file...): what it holds is the engine's business. */
export interface ShardCheckpointStore {
  load(): Promise<unknown | null>;
  save(state: unknown): Promise<void>;
}

export interface ShardProgress {
  shard: string;
  scanned: number;
  copied: number;
  failed: number;
  /** Keys the scanned node held when the shard started (INFO keyspace), null when unknown. */
  estimatedKeys: number | null;
}

export interface ShardRunOptions {
  source: Endpoint;
  target: Endpoint;
  shard: SourceShard;
  /** The db pair(s) as copy-across resolves them (a cluster side has db 0 only). */
  mapping: DbMapping;
  /** RESTORE REPLACE (the non-empty target policy is applied once, before the shards run). */
  replace: boolean;
  /** Resume from the last saved cursor. */
  checkpoint?: ShardCheckpointStore;
  onProgress?: (p: ShardProgress) => void | Promise<void>;
  /** Stops between batches (the checkpoint is saved; the report says complete: false). */
  signal?: AbortSignal;
  logger: Logger;
}

export interface ShardCopyReport {
  shard: string;
  copied: number;
  /** Keys gone between SCAN and DUMP (expired, deleted). */
  vanished: number;
  /** Keys copied in chunks. */
  bigKeys: number;
  /** Keys copied with native commands (the target rejected the payload). */
  byType: number;
  failed: { key: Buffer; reason: string }[];
  /** MOVED / ASK the target answered (null: a standalone target). */
  redirects: RedirectCounts | null;
  complete: boolean;
  incompleteReason?: string;
}

export interface ShardVerifyReport {
  shard: string;
  checked: number;
  /** Each names its source shard (sourceShard) and the target node. */
  differences: ShardDifference[];
  /** False too when the verify was stopped (signal) before it had looked at every key. */
  identical: boolean;
  /** Whether every key was looked at (false: stopped by the signal). */
  complete?: boolean;
}

export interface ShardDifference extends AcrossDifference {
  /** The source shard's id. */
  sourceShard: string;
}

export interface ShardVerifyOptions extends ShardRunOptions {
  ttlToleranceMs: number;
  /** Also the target's keys of this shard's slots that the source lacks. */
  reverse: boolean;
}

export { copyShard, type ShardCopyExtras } from './shard-copy.js';
export { loadFunctionsOnTargets, type TargetFunctionsReport } from './shard-functions.js';
export { listSourceShards } from './shard-list.js';
export { migrateShard, type ShardMigrateOptions } from './shard-migrate.js';
export { verifyShard } from './shard-verify.js';
