// The psync engine's public shapes: what a caller (the psync strategy) gives a PsyncReplica, the
// events it hears, and the checkpoint it stores so a takeover worker can continue.
import type { Endpoint } from '../../redis/endpoint.js';
import type { Logger } from '../../util/logger.js';
import type { NonEmptyTargetPolicy } from '../copy/types.js';
import type { DbMapping } from '../db-mapping.js';

/**
 * Where the mirror stands: the source's replication id and the applied offset (every byte of the
 * stream up to it is on the target). Resuming sends `PSYNC <replid> <offset + 1>`.
 */
export interface PsyncCheckpoint {
  replid: string;
  offset: number;
  /**
   * The source database selected in the stream at `offset` (a continued stream does not repeat
   * its SELECT, as Redis's own replica keeps it with the cached master). 0 when absent.
   */
  db?: number;
}

export type PsyncEvent =
  | { kind: 'full-sync-started'; replid: string; offset: number; reason: string }
  | { kind: 'rdb-progress'; bytes: number; totalBytes: number | null; keys: number }
  | {
      kind: 'rdb-loaded';
      keys: number;
      bytes: number;
      functions: number;
      ms: number;
      /** RESTORE of the payloads, or by type (a target that cannot RESTORE the source's RDB). */
      method: 'restore' | 'by-type';
    }
  | { kind: 'continued'; replid: string; offset: number }
  | { kind: 'disconnected'; error: string }
  | {
      kind: 'resync-needed';
      reason: string;
      backlogBytes: number | null;
      suggestedBacklogBytes: number | null;
    };

export interface PsyncReplicaOptions {
  source: Endpoint;
  target: Endpoint;
  mapping: DbMapping;
  resumeFrom?: PsyncCheckpoint | null;
  /** Spool the RDB to a file in this directory first (the source's pace, not the target's). */
  spoolDir?: string | null;
  /** Biggest key or value accepted from the RDB (rdb/reader.ts DEFAULT_MAX_VALUE_BYTES). */
  maxValueBytes?: number;
  logger: Logger;
  onEvent?: (e: PsyncEvent) => void;
  /** Throttled, at most ~1/s, and once more when it stops. */
  onCheckpoint?: (c: PsyncCheckpoint) => void | Promise<void>;
  /**
   * The first full sync on a target that holds keys of the mapped databases (or libraries):
   * 'refuse' (default) fails before writing, 'replace' overwrites, 'flush' empties them first.
   * A full sync after a partial apply (a resync, or a checkpoint the source no longer has)
   * always empties the mapped databases first.
   */
  onNonEmptyTarget?: NonEmptyTargetPolicy;
  /** `REPLCONF listening-port` announced to the source (INFO replication shows it). Default 0. */
  listeningPort?: number;
}

export type PsyncPhase = 'connecting' | 'rdb' | 'stream' | 'stopped' | 'failed';

export interface PsyncLag {
  /** Source master_repl_offset minus applied offset, from the last poll (~1/s). */
  bytes: number | null;
  /** Seconds since the applied offset last equalled the source's. */
  seconds: number | null;
  sourceOffset: number | null;
}
