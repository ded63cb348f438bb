// What live sync reports while it runs (onStatus, status()) and when it stops or drains.

import type { NotifyChannelKind } from './notify-config.js';

export type LiveSyncState =
  | 'idle'
  | 'starting'
  | 'following'
  | 'rescanning'
  | 'stopping'
  | 'stopped'
  | 'failed'
  | 'aborted';

export interface LiveSyncStatus {
  state: LiveSyncState;
  /** False while changes are only collected (holdApply). */
  applying: boolean;
  /** Notifications received (all of them, before filtering). */
  eventsReceived: number;
  /** Keys copied or deleted on the target by the flusher. */
  keysApplied: number;
  /** Of keysApplied, those deleted on the target because the source no longer had them. */
  keysDeleted: number;
  /** Keys the copy engine could not copy (not retried; see its log). */
  keysFailed: number;
  /** Dirty keys not applied yet, including the batch in flight. */
  pendingKeys: number;
  /** Age of the oldest change not applied yet: the lag estimate (null when nothing is pending). */
  oldestPendingAgeMs: number | null;
  lastEventAgeMs: number | null;
  reconnects: number;
  /** Reconcile passes completed. */
  rescans: number;
  /** Why the last reconcile pass was asked for. */
  lastRescanReason: string | null;
  /** A reconcile pass was asked for and has not completed yet (it may be running). */
  rescanPending: boolean;
  /** Target keys deleted by reconcile passes because the source no longer had them. */
  extrasDeleted: number;
  dirtyOverflows: number;
  /** Times keys vanished from the source without notifications (FLUSHDB and the like). */
  silentDropsDetected: number;
  /** Kind of channel followed. */
  channel: NotifyChannelKind;
  lastError: string | null;
}

export interface LiveSyncReport extends LiveSyncStatus {
  /** False when live sync stopped with a known gap that no reconcile pass covered. */
  consistent: boolean;
  /** The notify-keyspace-events value put back at stop, when live sync had changed it. */
  restoredNotifyConfig: string | null;
}

export interface DrainReport {
  durationMs: number;
  /** Keys applied while draining. */
  keysApplied: number;
}
