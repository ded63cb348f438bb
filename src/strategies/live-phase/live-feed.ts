// What the follower holds to keep the target following the source: a live feed. Two kinds, one
// interface, so the follower (its goals, the write pause, fencing and takeovers) exists once:
// - notifications: LiveSync over keyspace notifications (live-sync-session.ts), for dump-restore;
// - psync: the tool as a replica of the source, the replication stream applied in order
//   (psync-session.ts), for the psync strategy.
// The follower decides when to start, hold, drain and stop it; the feed says how it is doing.

import type { ServerIdentity } from '../../engine/identity/index.js';
import type { LiveSyncStatus } from '../../engine/live-sync/index.js';

export type LiveFeedKind = 'notifications' | 'psync';

export interface LiveFeedStart {
  /** Collect changes without applying them (the bulk copy runs; notifications only). */
  hold: boolean;
  /** Compare source and target for the keys that changed while nobody followed (notifications only). */
  reconcile: boolean;
  /** Under a pause the canary (used when CONFIG GET is refused) could not write: trust the setting. */
  trustNotifyConfig: boolean;
  sourceIdentity: ServerIdentity | undefined;
  /** Across topologies: each source node's identity when live sync first started (by `host:port`). */
  sourceIdentities?: Record<string, ServerIdentity> | undefined;
}

/** The replica's side of the status (psync feeds). */
export interface PsyncFeedStatus {
  phase: 'connecting' | 'rdb' | 'stream' | 'stopped' | 'failed';
  replid: string | null;
  /** Every byte of the stream up to here is on the target. */
  appliedOffset: number | null;
  sourceOffset: number | null;
  lagBytes: number | null;
  lagSeconds: number | null;
  fullSyncs: number;
  continues: number;
  rdb?: { keys: number; bytes: number; functions: number; ms: number };
  /** Bytes of the RDB received so far while it loads. */
  rdbProgress?: { bytes: number; totalBytes: number | null; keys: number };
}

/** A feed's counters, in the terms of the follower's status. */
export type FeedStatus = Pick<
  LiveSyncStatus,
  | 'state'
  | 'applying'
  | 'rescanPending'
  | 'pendingKeys'
  | 'oldestPendingAgeMs'
  | 'eventsReceived'
  | 'keysApplied'
  | 'reconnects'
  | 'rescans'
> & {
  /** Set when the feed knows better than the pending keys (psync: by the lag in bytes). */
  caughtUp?: boolean;
  psync?: PsyncFeedStatus;
};

/** A feed's counters, and what the run applied before this feed started. */
export interface LiveCounters {
  status: FeedStatus;
  keysAppliedBefore: number;
}

/** What a drain under the write pause did. */
export interface FeedDrain {
  durationMs: number;
  keysApplied: number;
  /** psync: the source's master_repl_offset read under the pause, which the applied offset reached. */
  offset?: number;
}

export interface LiveFeed {
  readonly kind: LiveFeedKind;
  /** A feed is attached (running, or failed and not stopped yet). */
  readonly attached: boolean;
  /** Why the attached feed failed (undefined while it runs). */
  readonly failure: string | undefined;
  /** It failed in a way a restart cannot fix (the source changed): the follower must fail. */
  readonly final: boolean;
  readonly starts: number;
  /** Throws once the feed was started as often as a run allows. */
  assertMayStart(): void;
  start(how: LiveFeedStart): Promise<void>;
  /** Ends a hold: apply what was collected and what comes. */
  startApplying(): void;
  /** Applies every change acknowledged before now (the barrier under the write pause). */
  drain(timeoutMs: number): Promise<FeedDrain>;
  /** Interrupts what the feed is doing (a drain, a start). */
  interrupt(reason: string): void;
  counters(keysAppliedSoFar: number): LiveCounters | undefined;
  sourceIdentity(): ServerIdentity | undefined;
  /** Across topologies: each source node's identity (by `host:port`); notifications feeds only. */
  sourceIdentities?(): Record<string, ServerIdentity> | undefined;
  /**
   * Stops (graceful: applies what it received) and detaches; whether it ended consistent. Once it
   * resolves nothing more is applied; closing may go on until settled().
   */
  stop(
    graceful: boolean,
    keysAppliedSoFar: number,
  ): Promise<{ consistent: boolean | undefined; last: LiveCounters | undefined } | undefined>;
  /** The follower lets go (fenced, handing over): stop at once, keeping nothing. */
  abandon(): Promise<void>;
  /** Resolves once a stopped feed has closed everything (the follower waits for it before it ends). */
  settled?(): Promise<void>;
}
