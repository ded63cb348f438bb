import type { ServerIdentity } from '../../engine/identity/index.js';
import type { PsyncCheckpoint } from '../../engine/psync/index.js';
import type { PsyncFeedStatus } from './live-feed.js';

// The live phase of a client-side copy (dump-restore; MIGRATE's write pause): what the follower
// publishes, what it is told, and the few things the executors need from the process around them.
//
// The follower is a long-running job per migration that owns the live sync (keyspace notifications
// -> target) and the write pause on the source. Steps are short jobs on any worker; they talk to
// the follower through the control Redis only: a goal (command key + pub/sub nudge) in, a status
// (fenced by the follower's epoch) out.

/** What the follower is doing. */
export const FOLLOWER_STATES = [
  'starting', // connecting, subscribing (and re-pausing, after a restart while paused)
  'collecting', // subscribed, changes recorded but not applied: the bulk copy is running
  'catching_up', // applying, backlog not small yet (or a reconcile pass is due)
  'following', // applying, caught up
  'pausing', // CLIENT PAUSE WRITE sent, draining the changes made before it
  'paused', // writes paused (and renewed), every acknowledged change applied
  'resuming', // killing stale connections, stopping live sync, unpausing
  'stopped', // done (resumed, stopped or aborted): see stoppedBecause
  'failed',
] as const;
export type FollowerState = (typeof FOLLOWER_STATES)[number];

export const TERMINAL_FOLLOWER_STATES: ReadonlySet<FollowerState> = new Set(['stopped', 'failed']);

/**
 * What the follower should converge to. Goals only move forward (collect < follow < pause <
 * resume); stop and abort end the run. The follower works out how to get there from wherever it is
 * (including after a restart on another worker), so a goal can be given again harmlessly.
 */
export const FOLLOWER_GOALS = ['collect', 'follow', 'pause', 'resume', 'stop', 'abort'] as const;
export type FollowerGoal = (typeof FOLLOWER_GOALS)[number];

/** live: LiveSync + write pause; pause-only: the write pause alone (no change capture planned). */
export type FollowerMode = 'live' | 'pause-only';

/** One run of the follower of one migration (a new run starts when the previous one ended). */
export interface FollowerRef {
  migrationId: string;
  run: number;
}

export interface FollowerCommand {
  /** Raised by every command; the follower reports the last one it has handled. */
  seq: number;
  goal: FollowerGoal;
  at: string;
  /** Who asked: a step (`step:<id>`) or a person. */
  by: string;
}

export interface SourceClientSummary {
  id: string;
  addr: string;
  name: string;
  lastCommand: string;
}

/** Set once the follower ended a write pause by resume_writes. */
export interface ResumeReport {
  /** The pause as measured on the source's own clock (TIME), from before CLIENT PAUSE to after UNPAUSE. */
  pausedMs: number;
  pauseStartedAt: string;
  resumedAt: string;
  killed: SourceClientSummary[];
  /** Application connections seen on the source after the kill. */
  clientsRemaining: SourceClientSummary[];
  /** A source cluster: the connections seen after the kill, by node (`host:port`), every node listed. */
  clientsRemainingByNode?: Record<string, SourceClientSummary[]>;
  /** The pause ran out (or lapsed while no follower renewed it) at least once. */
  pauseLapsed: boolean;
  warnings: string[];
}

export interface FollowerStatus {
  run: number;
  /** The follower's fencing token: raised each time a worker takes the run over. */
  epoch: number;
  worker: string;
  mode: FollowerMode;
  state: FollowerState;
  /** Subscribed to the source's notifications (live mode). */
  subscribed: boolean;
  applying: boolean;
  caughtUp: boolean;
  /** Dirty keys not applied yet. */
  pendingKeys: number;
  /** Age of the oldest change not applied yet (0 when nothing is pending). */
  lagMs: number;
  eventsReceived: number;
  keysApplied: number;
  reconnects: number;
  rescans: number;
  rescanPending: boolean;
  /** Whether this run's follower made a reconcile pass at start (restart, new run). */
  reconciledOnStart: boolean;
  /** The last command handled (converged to, or given up on with commandError). */
  handledSeq: number;
  commandError?: string;
  paused: boolean;
  /** Every change acknowledged before the pause has been applied. */
  drained: boolean;
  /** Start of the current write pause (source clock), ISO and ms. */
  pauseStartedAt?: string;
  pauseStartedMs?: number;
  /** When the pause ends unless renewed (source clock, ms). */
  pauseUntilMs?: number;
  pauseTimeoutMs?: number;
  drain?: { durationMs: number; keysApplied: number; offset?: number };
  /** The replica's side (psync feeds): phase, offsets, lag in bytes and seconds, syncs. */
  psync?: PsyncFeedStatus;
  resume?: ResumeReport;
  stoppedBecause?: string;
  /** The source as this run first saw it (or as the bulk copy recorded it): a takeover checks against it. */
  sourceIdentity?: ServerIdentity;
  /** A source cluster: each primary's identity (`host:port`) as live sync first read it. */
  sourceIdentities?: Record<string, ServerIdentity>;
  warnings: string[];
  error?: string;
  updatedAt: string;
}

export type ClaimResult =
  | {
      kind: 'claimed';
      epoch: number;
      /** What the previous holder of this run last published (undefined on a first start). */
      previous: FollowerStatus | undefined;
      command: FollowerCommand;
      /** Reconcile at start, as the run was launched (a restart always reconciles when it may). */
      reconcile: boolean;
    }
  /** A newer run exists, or this one was never started: the job has nothing to do. */
  | { kind: 'stale' }
  /** This run already ended. */
  | { kind: 'done' }
  /** Another worker holds the run and its lease has not run out. */
  | { kind: 'busy'; retryInMs: number };

/**
 * Where a psync feed resumes, kept in the control Redis across takeovers and runs: the applied
 * (replid, offset), and whether a full sync already wrote to the target (a later one must then
 * empty the mapped databases first, whatever the non-empty-target policy said).
 */
export interface PsyncResumePoint {
  checkpoint: PsyncCheckpoint | null;
  fullSyncStarted: boolean;
  /**
   * The checkpoint is exactly what the target holds: saved when the replica stopped (a hand-over,
   * a stop). The ones saved as it runs (~1/s) may trail the target by what it applied since.
   */
  exact?: boolean;
}

/** lost: the migration or its follower record is gone from the control Redis (restarted empty). */
export type HeartbeatResult = 'ok' | 'fenced' | 'aborted' | 'lost';

/** lost: the follower record is gone (not another holder: nobody can take a lost run over). */
export type PublishResult = 'ok' | 'fenced' | 'lost';

/** The control-Redis side of a running follower (FollowerStore implements it). */
export interface FollowerChannel {
  claim(ref: FollowerRef, owner: string, leaseMs: number): Promise<ClaimResult>;
  /** Renews the lease; says when another holder took over, the migration was aborted or is gone. */
  heartbeat(ref: FollowerRef, epoch: number, leaseMs: number): Promise<HeartbeatResult>;
  /** Fenced write of the status: refused when another holder took over or the record is gone. `release` drops the lease. */
  publish(ref: FollowerRef, epoch: number, status: FollowerStatus, release?: boolean): Promise<PublishResult>;
  command(migrationId: string): Promise<FollowerCommand | undefined>;
  /** The original notify-keyspace-events value, recorded once for the whole migration. */
  rememberNotifyOriginal(migrationId: string, value: string): Promise<string>;
  notifyOriginal(migrationId: string): Promise<string | undefined>;
  note(migrationId: string, actor: string, message: string, data?: Record<string, unknown>): Promise<void>;
  /** Fenced like publish: false when another holder took over. */
  savePsyncResume(ref: FollowerRef, epoch: number, point: PsyncResumePoint): Promise<boolean>;
  psyncResume(migrationId: string): Promise<PsyncResumePoint | undefined>;
}

/** Starts follower jobs (BullMQ in src/jobs). Launching the same run twice must be harmless. */
export interface FollowerLauncher {
  launch(ref: FollowerRef): Promise<void>;
  /** Whether the run's job is waiting, delayed or active (not finished, not lost). */
  alive(ref: FollowerRef): Promise<boolean>;
}

/** Timings of the live phase; production defaults, tests shrink them. */
export interface LivePhaseTiming {
  /** How often the follower publishes its status (and LiveSync reports to it). */
  statusIntervalMs: number;
  /** How often executors read the follower's status while they wait. */
  pollMs: number;
  /** Lag below which the follower counts as caught up (with nothing else pending). */
  caughtUpLagMs: number;
  /** How long bulk_copy waits for the follower to subscribe before it scans. */
  subscribeTimeoutMs: number;
  /** How long live_sync (and verify) wait for the follower to catch up. */
  catchUpTimeoutMs: number;
  /** How long write_pause and resume_writes wait for the follower (beyond the drain itself). */
  commandTimeoutMs: number;
  /** Longest drain under the pause; beyond it writes are resumed and write_pause fails. */
  drainTimeoutMs: number;
}

export const DEFAULT_LIVE_PHASE_TIMING: LivePhaseTiming = {
  statusIntervalMs: 1000,
  pollMs: 250,
  caughtUpLagMs: 1000,
  subscribeTimeoutMs: 120_000,
  catchUpTimeoutMs: 30 * 60_000,
  commandTimeoutMs: 120_000,
  drainTimeoutMs: 60_000,
};

export function resolveLivePhaseTiming(partial: Partial<LivePhaseTiming> = {}): LivePhaseTiming {
  return { ...DEFAULT_LIVE_PHASE_TIMING, ...partial };
}
