// What a migration's plan asks of its follower, and the decisions the follower makes from its
// situation: pure functions, so they are table-tested without servers.

import type { NonEmptyTargetPolicy } from '../../engine/copy/types.js';
import { type DbRemap, remapFromParams } from '../../engine/db-mapping.js';
import type { LiveSyncStatus } from '../../engine/live-sync/index.js';
import type { Migration, Step } from '../../runbook/model.js';
import type { LiveFeedKind } from './live-feed.js';
import type { FollowerGoal, FollowerMode, FollowerStatus } from './types.js';

export interface FollowerSpec {
  mode: FollowerMode;
  /** LiveSync settings (live mode). */
  live?: {
    /** How changes reach the follower: keyspace notifications, or the replication stream (psync). */
    feed: LiveFeedKind;
    /** psync: the first full sync's policy for a target that holds data (the bulk copy's approval). */
    onNonEmptyTarget: NonEmptyTargetPolicy;
    dbs: 'all' | number[];
    /** Source db -> another target db (engine/db-mapping.ts). */
    remap?: DbRemap;
    match?: string;
    mode: 'auto' | 'by-type';
    bigKeyThresholdBytes?: number;
    /** Hashes with field TTLs go to a target without them as persistent fields (--drop-field-ttls). */
    dropFieldTtls?: boolean;
    /**
     * The plan lets migration-buddy set notify-keyspace-events; the value it found is recorded
     * before the change and put back when the follower ends.
     */
    setConfig: boolean;
  };
  pause: {
    /** client-pause: CLIENT PAUSE WRITE, renewed; manual: a person stopped the apps' writes. */
    method: 'client-pause' | 'manual';
    /** Each CLIENT PAUSE lasts this long unless renewed. */
    timeoutMs: number;
  };
  killStaleClients: boolean;
}

const DEFAULT_PAUSE_TIMEOUT_MS = 60_000;

function stepOf(m: Pick<Migration, 'steps'>, kind: Step['kind']): Step | undefined {
  return m.steps.find((s) => s.kind === kind);
}

/** Whether the plan follows changes (a live_sync step) rather than pausing first. */
export function hasLiveSync(m: Pick<Migration, 'steps'>): boolean {
  return stepOf(m, 'live_sync') !== undefined;
}

/** Whether the plan's write pause comes before `step` (the source must then be paused for it). */
export function pausedDuring(m: Pick<Migration, 'steps'>, step: Pick<Step, 'id'>): boolean {
  const pause = m.steps.findIndex((s) => s.kind === 'write_pause');
  const resume = m.steps.findIndex((s) => s.kind === 'resume_writes');
  const at = m.steps.findIndex((s) => s.id === step.id);
  return pause >= 0 && at > pause && (resume < 0 || at < resume);
}

/**
 * Whether the apps may have begun moving to the target: from then on the target takes writes, and
 * copying the source over it again (a reconcile pass) would undo them.
 */
export function repointStarted(m: Pick<Migration, 'steps'>): boolean {
  return m.steps.some((s) => s.kind === 'repoint' && (s.status !== 'pending' || s.attempts > 0));
}

export function followerSpec(m: Pick<Migration, 'steps'>): FollowerSpec {
  const live = stepOf(m, 'live_sync');
  const copy = m.steps.find((s) => s.kind === 'bulk_copy' && s.params.method !== 'migrate');
  const pause = stepOf(m, 'write_pause');
  const resume = stepOf(m, 'resume_writes');
  const timeout = pause?.params.timeoutMs;
  const spec: FollowerSpec = {
    mode: live ? 'live' : 'pause-only',
    pause: {
      method: pause?.params.method === 'manual' ? 'manual' : 'client-pause',
      timeoutMs:
        typeof timeout === 'number' && Number.isInteger(timeout) && timeout > 0
          ? timeout
          : DEFAULT_PAUSE_TIMEOUT_MS,
    },
    killStaleClients: resume?.params.killStaleClients !== false,
  };
  if (live) {
    const p = live.params;
    const chunk = copy?.params.chunkAboveBytes;
    const policy = copy?.params.onNonEmptyTarget;
    spec.live = {
      feed: p.feed === 'psync' ? 'psync' : 'notifications',
      onNonEmptyTarget: policy === 'replace' || policy === 'flush' ? policy : 'refuse',
      dbs: Array.isArray(p.dbs) ? (p.dbs as number[]) : 'all',
      mode: copy?.params.copyMode === 'by-type' ? 'by-type' : 'auto',
      setConfig: p.setConfig === true,
    };
    const remap = remapFromParams(p);
    if (remap) spec.live.remap = remap;
    if (typeof p.match === 'string') spec.live.match = p.match;
    if (typeof chunk === 'number') spec.live.bigKeyThresholdBytes = chunk;
    if (copy?.params.dropFieldTtls === true) spec.live.dropFieldTtls = true;
  }
  return spec;
}

/**
 * The goal the follower works towards: the commanded one, unless the migration ended. An abort
 * (or a migration that is gone) lifts the pause at once; a failed or rejected migration stops the
 * follower too (writes resume: the source never stays paused for a runbook nobody runs). A retry
 * of a step later starts a new run.
 */
export function effectiveGoal(
  commanded: FollowerGoal,
  migration: Pick<Migration, 'status' | 'abort' | 'steps'> | undefined,
  abortFlag: boolean,
): { goal: FollowerGoal; because?: string } {
  if (!migration) return { goal: 'abort', because: 'the migration no longer exists' };
  if (migration.abort || abortFlag) {
    return {
      goal: 'abort',
      because: `the migration was aborted${migration.abort ? ` by ${migration.abort.userId}` : ''}`,
    };
  }
  if (commanded === 'abort' || commanded === 'stop') return { goal: commanded };
  if (migration.status === 'failed' || migration.status === 'rejected') {
    const step = migration.steps.find((s) => s.status === 'failed' || s.status === 'rejected');
    return {
      goal: 'stop',
      because: `the migration stopped: "${step?.title ?? 'a step'}" ${migration.status}`,
    };
  }
  if (migration.status === 'succeeded') return { goal: 'stop', because: 'the migration succeeded' };
  // A gate under the pause (the repoint's confirmation) expired: nobody is at the keyboard, so the
  // apps' writes must not stay held. Live sync goes on; the step that asks again re-pauses.
  if (migration.status === 'expired' && commanded === 'pause') {
    return { goal: 'follow', because: 'a request under the write pause expired' };
  }
  return { goal: commanded };
}

export interface ReconcileInput {
  /** The run was launched needing one (anything but the first start before the bulk copy scans). */
  launchedWithReconcile: boolean;
  /** Another worker ran this run before (a takeover after a crash or shutdown). */
  restart: boolean;
  /** What the previous holder last published. */
  previous: Pick<FollowerStatus, 'paused' | 'drained'> | undefined;
  /** The write pause ran out while nobody renewed it. */
  lapsed: boolean;
  repointStarted: boolean;
}

/**
 * Whether live sync starts with a reconcile pass. Changes made while nobody was subscribed are
 * lost from the notification stream, so a restart reconciles, except:
 * - after a drained pause that held (the source has not changed since every change was applied);
 * - once the repoint began: the target takes writes then, and re-copying the source would undo
 *   them. A gap there is reported instead (post_verify will show what differs).
 */
export function reconcileDecision(input: ReconcileInput): { reconcile: boolean; warning?: string } {
  const drainedPause = Boolean(input.previous?.paused && input.previous.drained);
  let want = input.launchedWithReconcile || input.restart;
  if (drainedPause && !input.lapsed) want = false;
  if (want && input.repointStarted) {
    return {
      reconcile: false,
      warning:
        'live sync restarted after the apps began moving to the target, so it did not copy the source ' +
        'over the target again (that would undo their writes); changes made on the source while nobody ' +
        'followed it may be missing from the target: check the final verification',
    };
  }
  return { reconcile: want };
}

/** Caught up: applying, no reconcile pass due, and the backlog empty or younger than `lagMs`. */
export function isCaughtUp(
  s: Pick<LiveSyncStatus, 'applying' | 'rescanPending' | 'state' | 'pendingKeys' | 'oldestPendingAgeMs'>,
  lagMs: number,
): boolean {
  if (!s.applying || s.rescanPending || s.state === 'rescanning') return false;
  return s.pendingKeys === 0 || (s.oldestPendingAgeMs ?? 0) <= lagMs;
}
