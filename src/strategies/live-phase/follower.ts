// The follower: one long-running job per migration that owns the live phase on the source.
//
// It holds a LiveSync (live mode) and the write pause, takes goals from the control Redis and
// publishes its status there; steps (short jobs on any worker) drive it through goals and read its
// status. It converges on the goal from wherever it is, so a restart on another worker (stall
// recovery after a SIGKILL, a graceful hand-over) just claims the run again and carries on:
// - the write pause is re-established first if it was on (a pause never outlives the follower for
//   longer than its CLIENT PAUSE timeout: a dead follower stops renewing it);
// - live sync subscribes again and reconciles for the gap when that is safe (see reconcileDecision);
// - a pause that was on is drained again before the follower reports `paused` again.
// An abort (flag on the migration's fence, pub/sub nudge) lifts the pause at once, wherever the
// follower is; a failed or rejected migration stops it too.
//
// Fencing: each claim raises the run's epoch; status writes and lease renewals of an older epoch
// are refused, and a follower that finds itself fenced stops without touching the pause (the new
// holder owns it).

import type { Redis } from 'ioredis';
import {
  killClients,
  listSourceClients,
  pauseWrites,
  resumeWrites,
  type SourceClient,
} from '../../engine/cutover/index.js';
import {
  clientInfo,
  IdentityGuard,
  readIdentity,
  ServerChangedError,
  type ServerIdentity,
} from '../../engine/identity/index.js';
import {
  checkNotifyFlags,
  LiveSync,
  LiveSyncError,
  type LiveSyncOptions,
  withNeededFlags,
} from '../../engine/live-sync/index.js';
import { connect } from '../../redis/connect.js';
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import type { Migration } from '../../runbook/model.js';
import { backoffMs, RETRY_BACKOFF } from '../../util/backoff.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { sleep } from '../../util/sleep.js';
import { withTimeout } from '../../util/timeout.js';
import { migrationSourceIdentity } from '../shared/source-identity.js';
import {
  effectiveGoal,
  type FollowerSpec,
  followerSpec,
  isCaughtUp,
  reconcileDecision,
  repointStarted,
} from './spec.js';
import type {
  FollowerChannel,
  FollowerCommand,
  FollowerGoal,
  FollowerRef,
  FollowerState,
  FollowerStatus,
  LivePhaseTiming,
  ResumeReport,
  SourceClientSummary,
} from './types.js';

export interface FollowerOptions {
  ref: FollowerRef;
  channel: FollowerChannel;
  /** The migration as stored now (plan, status, abort). */
  readMigration: () => Promise<Migration | undefined>;
  endpoints: { source: Endpoint; target: Endpoint };
  workerId: string;
  /** Lease of the claim; renewed every third of it. Match the follower queue's lock duration. */
  leaseMs: number;
  timing: LivePhaseTiming;
  logger: Logger;
  /**
   * The control Redis lost the migration (restarted empty): the follower has undone its changes on
   * the source and says so here, since the audit stream that feeds the Slack thread is gone.
   * `migration` is the last copy it read (its meta says where the Slack thread is).
   */
  onControlLost?: (lost: ControlLost) => void;
}

export interface ControlLost {
  migrationId: string;
  migration: Migration | undefined;
  message: string;
}

export type FollowerOutcome =
  | { kind: 'stopped'; status: FollowerStatus }
  | { kind: 'failed'; error: string }
  /** Let go for a shutdown: another worker takes the run over. */
  | { kind: 'released' }
  | { kind: 'fenced' }
  /** The control Redis lost the migration; the source was put back (see ControlLost). */
  | { kind: 'lost'; message: string }
  | { kind: 'stale' }
  | { kind: 'done' }
  | { kind: 'busy'; retryInMs: number };

/** A goal could not be reached (e.g. the drain ran out): reported for that command, not fatal. */
class CommandFailed extends Error {}

/** Live sync may be started again this many times in a run before the follower gives up. */
const MAX_LIVE_SYNC_STARTS = 4;

export class Follower {
  private readonly ref: FollowerRef;
  private readonly ch: FollowerChannel;
  private readonly log: Logger;
  private readonly actor: string;
  private spec!: FollowerSpec;
  private epoch = 0;
  private status!: FollowerStatus;

  private admin: Redis | undefined;
  private ls: LiveSync | undefined;
  private lsAbort: AbortController | undefined;
  private lsFailure: string | undefined;
  /** Live sync failed in a way a restart cannot fix (the source changed): the follower fails. */
  private lsFinal = false;
  private lsStarts = 0;
  private reconcileNext = false;

  private renewTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private publishTimer: NodeJS.Timeout | undefined;
  private lastBeat = Date.now();
  private publishing: Promise<void> = Promise.resolve();

  private fenced = false;
  /** The migration or this follower's record vanished from the control Redis. */
  private lost = false;
  /** The last migration read, for the Slack thread when the control Redis loses it. */
  private lastMigration: Migration | undefined;
  /** notify-keyspace-events before this migration changed it (kept here too: the record can vanish). */
  private notifyOriginalSeen: string | undefined;
  private releasing = false;
  private abortFlag = false;
  private failedSeq = -1;
  private lapsed = false;
  private woken = false;
  private wakeup: (() => void) | undefined;

  constructor(private readonly options: FollowerOptions) {
    this.ref = options.ref;
    this.ch = options.channel;
    this.actor = `follower:${options.workerId}`;
    this.log = options.logger.child({ migrationId: options.ref.migrationId, follower: options.ref.run });
  }

  get migrationId(): string {
    return this.ref.migrationId;
  }

  /** A command or the abort may have changed: look again now. */
  wake(): void {
    this.woken = true;
    this.wakeup?.();
  }

  /** The migration was aborted (pub/sub): lift the pause now rather than at the next heartbeat. */
  abortNow(): void {
    this.abortFlag = true;
    this.interruptForAbort();
    this.wake();
  }

  /** Shutdown: let go of the run without touching the pause; another worker takes over. */
  release(): void {
    this.releasing = true;
    this.lsAbort?.abort(new Error('the follower is handing over'));
    this.wake();
  }

  async run(): Promise<FollowerOutcome> {
    const { ref, ch } = this;
    const claim = await ch.claim(ref, this.options.workerId, this.options.leaseMs);
    if (claim.kind !== 'claimed') return claim;
    this.epoch = claim.epoch;
    const previous = claim.previous;
    const restart = claim.epoch > 1;
    const migration = await this.options.readMigration();
    this.lastMigration = migration;
    this.notifyOriginalSeen = await ch.notifyOriginal(ref.migrationId);
    this.spec = followerSpec(migration ?? { steps: [] });
    this.status = this.initialStatus(previous);
    this.startTimers();
    try {
      await this.note(
        restart
          ? `follower run ${ref.run} taken over by ${this.options.workerId} (execution ${claim.epoch}, was ${previous?.state ?? 'starting'})`
          : `follower run ${ref.run} started on ${this.options.workerId} (${this.spec.mode === 'live' ? 'live sync and write pause' : 'write pause only'})`,
      );
      this.admin = await connect(this.options.endpoints.source, {
        role: 'live-phase',
        maxReconnects: 20,
      });
      this.status.sourceIdentity ??=
        (migration && migrationSourceIdentity(migration)) ?? (await this.readSourceIdentity());
      // A pause that was on stays on: re-establish it before anything else (unless the migration
      // ended meanwhile: then the loop below lifts it at once anyway).
      const ending = ['abort', 'stop'].includes(effectiveGoal(claim.command.goal, migration, false).goal);
      if (previous?.paused && !ending) await this.repause(previous);
      else if (previous?.paused) this.adoptPause(previous);
      const decision = reconcileDecision({
        launchedWithReconcile: claim.reconcile,
        restart,
        previous,
        lapsed: this.lapsed,
        repointStarted: migration ? repointStarted(migration) : false,
      });
      this.reconcileNext = decision.reconcile;
      if (decision.warning && (restart || claim.reconcile)) this.warn(decision.warning);
      return await this.loop(claim.command);
    } catch (err) {
      return await this.failWith(err);
    } finally {
      this.stopTimers();
      this.admin?.disconnect();
    }
  }

  // ---- the loop ------------------------------------------------------------------------------

  private async loop(first: FollowerCommand): Promise<FollowerOutcome> {
    let command = first;
    for (;;) {
      if (this.fenced) return this.letGo('fenced');
      if (this.lost) return this.finishLost();
      let cmd: FollowerCommand | undefined;
      let migration: Migration | undefined;
      try {
        // A shutdown reads once more (bounded: the control Redis may be down), so a migration
        // that ended is finished here rather than handed to a worker that may never come.
        const read = Promise.all([this.ch.command(this.ref.migrationId), this.options.readMigration()]);
        [cmd, migration] = await withTimeout(read, this.releasing ? 2000 : undefined, 'reading the goal');
      } catch (err) {
        if (this.releasing) return this.letGo('released');
        // The control Redis blinked: carry on as we are (the lease says when to give up).
        this.log.warn({ err: errorMessage(err) }, 'could not read the goal; trying again');
        await this.idle(Math.max(50, Math.floor(this.options.leaseMs / 3)));
        continue;
      }
      // Gone from the control Redis: nobody can drive or take over this run any more.
      if (!migration) this.lost = true;
      if (this.lost) return this.finishLost();
      this.lastMigration = migration;
      if (cmd) command = cmd;
      const { goal, because } = effectiveGoal(command.goal, migration, this.abortFlag);
      if (goal === 'abort' || goal === 'stop') {
        await this.finish(goal, because ?? `${goal} asked by ${command.by}`);
        return { kind: 'stopped', status: this.status };
      }
      if (this.releasing) return this.letGo('released');
      // A goal that failed is not tried again until it is asked for again (a new seq).
      const retrying = command.seq === this.failedSeq;
      try {
        await this.converge(retrying ? 'follow' : goal, because);
        if (goal === 'resume' && !retrying) return { kind: 'stopped', status: this.status };
        if (!retrying) this.handled(command.seq);
      } catch (err) {
        if (this.fenced || this.releasing || this.abortFlag || this.lost) continue;
        if (!(err instanceof CommandFailed)) throw err;
        this.failedSeq = command.seq;
        this.handled(command.seq, err.message);
        this.log.warn({ goal, err: err.message }, 'follower could not reach its goal');
      }
      await this.publishNow();
      await this.idle(Math.max(50, Math.floor(this.options.leaseMs / 3)));
    }
  }

  private async converge(goal: FollowerGoal, because?: string): Promise<void> {
    // Whatever the goal (even a pause already drained): a source that changed ends the run.
    if (this.lsFinal) throw new LiveSyncError(this.lsFailure ?? 'the source changed', true);
    switch (goal) {
      case 'collect':
        await this.ensureLive(true);
        return;
      case 'follow':
        // Following never holds the source's writes (a pause whose gate expired is lifted here).
        if (this.status.paused) await this.liftPause(because ?? 'the goal is to follow, not to pause');
        await this.ensureLive(false);
        return;
      case 'pause':
        await this.ensurePaused();
        return;
      case 'resume':
        await this.ensurePaused();
        await this.resume();
        return;
      default:
        return;
    }
  }

  private handled(seq: number, error?: string): void {
    this.status.handledSeq = Math.max(this.status.handledSeq, seq);
    if (error) this.status.commandError = error;
    else delete this.status.commandError;
  }

  private idle(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wakeup = undefined;
        self.woken = false;
        resolve();
      }
      this.wakeup = done;
    });
  }

  // ---- live sync -----------------------------------------------------------------------------

  /** Live sync subscribed (and applying unless `hold`); restarted with a reconcile pass after a failure. */
  private async ensureLive(hold: boolean): Promise<void> {
    const live = this.spec.live;
    if (!live) return;
    if (this.ls && this.lsFailure === undefined) {
      if (!hold && !this.status.applying) {
        this.ls.startApplying();
        this.status.applying = true;
        this.refresh();
        await this.publishNow();
      }
      return;
    }
    if (this.ls && this.lsFailure !== undefined) {
      const why = this.lsFailure;
      await this.dropLiveSync();
      if (this.lsFinal) throw new LiveSyncError(why, true);
      if (this.status.paused && this.status.drained) {
        // Nothing changes on a drained, paused source: live sync is not needed to finish.
        this.warn(`live sync stopped while writes were paused (${why}); the resume goes on without it`);
        return;
      }
      const migration = await this.options.readMigration();
      const decision = reconcileDecision({
        launchedWithReconcile: true,
        restart: true,
        previous: undefined,
        lapsed: this.lapsed,
        repointStarted: migration ? repointStarted(migration) : false,
      });
      this.reconcileNext = decision.reconcile;
      if (decision.warning) this.warn(decision.warning);
      this.log.warn({ err: why }, 'live sync failed; starting it again');
    }
    // Live sync failed earlier under a drained pause: it stays off (see above).
    if (this.status.paused && this.status.drained && this.lsStarts > 0) return;
    if (this.lsStarts >= MAX_LIVE_SYNC_STARTS) {
      throw new LiveSyncError(`live sync failed ${this.lsStarts} times in this run: ${this.lsFailure ?? ''}`);
    }
    await this.ensureNotifyConfig();
    const reconcile = this.reconcileNext;
    const open = (): { ls: LiveSync; abort: AbortController } => {
      const abort = new AbortController();
      const options: LiveSyncOptions = {
        dbs: live.dbs,
        ...(live.remap ? { remap: live.remap } : {}),
        holdApply: hold,
        reconcileOnStart: reconcile,
        statusIntervalMs: this.options.timing.statusIntervalMs,
        mode: live.mode,
        // Under a pause the canary (used when CONFIG GET is refused) could not write: the setting
        // was checked when this migration's live sync first started.
        trustNotifyConfig: this.status.paused,
        onError: (err) => {
          this.lsFailure = err.message;
          this.lsFinal = err.final;
          this.wake();
        },
        ...(this.status.sourceIdentity ? { sourceIdentity: this.status.sourceIdentity } : {}),
        signal: abort.signal,
        logger: this.log,
      };
      if (live.match) options.match = live.match;
      if (live.bigKeyThresholdBytes) options.bigKeyThresholdBytes = live.bigKeyThresholdBytes;
      if (live.dropFieldTtls) options.dropFieldTtls = true;
      return {
        ls: new LiveSync(this.options.endpoints.source, this.options.endpoints.target, options),
        abort,
      };
    };
    this.lsStarts++;
    const { ls, abort } = await startWithRetries(open, this.log, () => this.releasing || this.fenced);
    this.ls = ls;
    this.status.sourceIdentity ??= ls.sourceIdentity();
    this.lsAbort = abort;
    this.lsFailure = undefined;
    this.status.subscribed = true;
    this.status.applying = !hold;
    this.status.reconciledOnStart = this.status.reconciledOnStart || reconcile;
    // Any later start is after a failure: it reconciles (when it may).
    this.reconcileNext = false;
    this.refresh();
    await this.publishNow();
  }

  private async dropLiveSync(graceful = false): Promise<boolean | undefined> {
    const ls = this.ls;
    if (!ls) return undefined;
    if (!graceful) this.lsAbort?.abort(new Error('live sync stopped'));
    const report = await ls.stop().catch(() => undefined);
    this.refresh();
    this.ls = undefined;
    this.keysAppliedBefore = -1;
    this.status.subscribed = false;
    this.status.applying = false;
    this.status.pendingKeys = 0;
    this.status.lagMs = 0;
    return report?.consistent;
  }

  /** The plan lets us turn notifications on: do it ourselves, so any follower can restore them. */
  private async ensureNotifyConfig(): Promise<void> {
    if (!this.spec.live?.setConfig) return;
    const admin = this.admin!;
    const reply = (await admin.config('GET', 'notify-keyspace-events')) as string[];
    const value = reply[1] ?? '';
    if (checkNotifyFlags(value).ok) return;
    this.notifyOriginalSeen = await this.ch.rememberNotifyOriginal(this.ref.migrationId, value);
    await admin.config('SET', 'notify-keyspace-events', withNeededFlags(value));
    this.log.warn({ before: value }, 'turned keyspace notifications on for live sync');
  }

  /** Puts notify-keyspace-events back, if a follower of this migration changed it. */
  private async restoreNotifyConfig(): Promise<void> {
    if (!this.spec.live?.setConfig) return;
    // Recorded before the first CONFIG SET: no record, no change of ours to undo. Once the control
    // Redis lost the record, the copy read at claim time is all there is.
    const original = this.lost
      ? this.notifyOriginalSeen
      : ((await this.ch.notifyOriginal(this.ref.migrationId)) ?? this.notifyOriginalSeen);
    if (original === undefined) return;
    try {
      const reply = (await this.admin!.config('GET', 'notify-keyspace-events')) as string[];
      if (reply[1] !== original) await this.admin!.config('SET', 'notify-keyspace-events', original);
    } catch (err) {
      this.warn(
        `could not restore notify-keyspace-events to "${original}" (${errorMessage(err)}); set it back by hand`,
      );
    }
  }

  /** The source as it is now, or undefined (with a warning) when it will not say. */
  private async readSourceIdentity(): Promise<ServerIdentity | undefined> {
    try {
      return await readIdentity(clientInfo(this.admin!), this.spec.live?.dbs ?? 'all');
    } catch (err) {
      this.warn(
        `cannot read INFO on the source (${errorMessage(err)}): a change of its role or a restart cannot be detected`,
      );
      return undefined;
    }
  }

  /** Throws a final LiveSyncError when the source changed role or restarted since the baseline. */
  private async checkSource(when: string, consequence: string): Promise<void> {
    const baseline = this.status.sourceIdentity;
    if (!baseline) return;
    const guard = new IdentityGuard({
      side: 'source',
      where: describeEndpoint(this.options.endpoints.source),
      baseline,
      dbs: this.spec.live?.dbs ?? 'all',
    });
    try {
      // Key counts are live sync's to judge (against notifications): role and run id here.
      await guard.check(clientInfo(this.admin!), when, consequence, false);
    } catch (err) {
      if (err instanceof ServerChangedError) throw new LiveSyncError(err.message, true);
      throw err;
    }
  }

  // ---- the write pause -----------------------------------------------------------------------

  /** Writes paused on the source and every change made before the pause applied to the target. */
  private async ensurePaused(): Promise<void> {
    if (this.status.paused && this.status.drained) return;
    await this.ensureLive(false);
    if (!this.status.paused) {
      // Never pause a server that is no longer the source being migrated (e.g. now a replica).
      await this.checkSource(
        'before the write pause',
        'writes were not paused; nothing more was applied to the target; the target keeps what it had',
      );
      this.setState('pausing');
      await this.publishNow();
      await this.pauseNow();
    }
    this.setState('pausing');
    await this.publishNow();
    if (this.ls) {
      try {
        const drained = await this.ls.drain({ timeoutMs: this.options.timing.drainTimeoutMs });
        this.status.drain = drained;
      } catch (err) {
        if (this.abortFlag || this.releasing || this.fenced || this.lost) throw err;
        // The pause must not outlive a drain that cannot finish.
        await this.unpauseNow();
        this.setState(null);
        throw new CommandFailed(
          `the drain under the write pause did not finish (${errorMessage(err)}); source writes were resumed`,
        );
      }
    }
    this.status.drained = true;
    this.setState('paused');
    await this.publishNow();
    await this.note(
      `source writes paused since ${this.status.pauseStartedAt ?? 'now'}` +
        (this.status.drain
          ? `; drained ${this.status.drain.keysApplied} changes in ${this.status.drain.durationMs} ms`
          : ''),
      { pauseStartedAt: this.status.pauseStartedAt ?? null, drain: this.status.drain ?? null },
    );
  }

  private async pauseNow(keepStartMs?: number): Promise<void> {
    if (this.spec.pause.method === 'manual') {
      // A person stopped the apps' writes (the step asked for it): nothing to send.
      this.status.paused = true;
      const now = Date.now();
      this.status.pauseStartedMs = keepStartMs ?? now;
      this.status.pauseStartedAt = new Date(this.status.pauseStartedMs).toISOString();
      return;
    }
    const timeoutMs = this.spec.pause.timeoutMs;
    const t0 = await this.sourceNowMs();
    this.pauseWanted = true;
    await pauseWrites(this.admin!, { timeoutMs });
    this.status.paused = true;
    this.status.drained = false;
    this.status.pauseStartedMs = keepStartMs ?? t0;
    this.status.pauseStartedAt = new Date(this.status.pauseStartedMs).toISOString();
    this.status.pauseUntilMs = t0 + timeoutMs;
    this.status.pauseTimeoutMs = timeoutMs;
    this.startRenewing();
  }

  /** After a restart: the pause was on when the last holder stopped; put it back and look for a gap. */
  private async repause(previous: FollowerStatus): Promise<void> {
    if (this.spec.pause.method === 'client-pause') {
      const now = await this.sourceNowMs();
      if (previous.pauseUntilMs !== undefined && now > previous.pauseUntilMs) {
        this.lapsed = true;
        this.warn(
          `the write pause lapsed for about ${now - previous.pauseUntilMs} ms while no follower renewed it; ` +
            'writes made on the source then are followed only if live sync can reconcile',
        );
      }
    }
    await this.pauseNow(previous.pauseStartedMs);
    await this.publishNow();
  }

  /** The last holder's pause may still be in force: take it over without renewing, to lift it. */
  private adoptPause(previous: FollowerStatus): void {
    this.status.paused = true;
    if (previous.pauseStartedMs !== undefined) {
      this.status.pauseStartedMs = previous.pauseStartedMs;
      this.status.pauseStartedAt = new Date(previous.pauseStartedMs).toISOString();
    }
  }

  private startRenewing(): void {
    if (this.renewTimer) return;
    const every = Math.max(50, Math.floor(this.spec.pause.timeoutMs / 3));
    this.renewTimer = setInterval(() => void this.renew(), every);
  }

  private stopRenewing(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
  }

  private renewing = false;
  /** Cleared (synchronously) before UNPAUSE: a renewal in flight must not pause again after it. */
  private pauseWanted = false;

  private async renew(): Promise<void> {
    if (this.renewing || !this.status.paused || this.fenced || this.releasing) return;
    this.renewing = true;
    try {
      const t = await this.sourceNowMs();
      if (this.status.pauseUntilMs !== undefined && t > this.status.pauseUntilMs && !this.lapsed) {
        this.lapsed = true;
        this.warn(
          `the write pause ran out at ${new Date(this.status.pauseUntilMs).toISOString()} before it was renewed`,
        );
      }
      // Same connection as UNPAUSE, checked right before sending: commands stay in order.
      if (!this.pauseWanted) return;
      await pauseWrites(this.admin!, { timeoutMs: this.spec.pause.timeoutMs });
      this.status.pauseUntilMs = t + this.spec.pause.timeoutMs;
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'could not renew the write pause; trying again');
    } finally {
      this.renewing = false;
    }
  }

  /** CLIENT UNPAUSE (on a fresh connection if ours is broken); returns the measured pause. */
  private async unpauseNow(): Promise<number> {
    this.pauseWanted = false;
    this.stopRenewing();
    const started = this.status.pauseStartedMs;
    if (!this.status.paused) return 0;
    let endMs = Date.now();
    if (this.spec.pause.method === 'client-pause') {
      try {
        await resumeWrites(this.admin!);
        endMs = await this.sourceNowMs();
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'CLIENT UNPAUSE failed; retrying on a new connection');
        let fresh: Redis | undefined;
        try {
          fresh = await connect(this.options.endpoints.source, {
            role: 'live-phase-unpause',
            maxReconnects: 2,
          });
          await resumeWrites(fresh);
          endMs = Number((await fresh.time())[0]) * 1000;
        } catch (again) {
          this.warn(
            `could not resume writes on the source (${errorMessage(again)}); the pause ends by itself within ` +
              `${Math.ceil(this.spec.pause.timeoutMs / 1000)} s`,
          );
        } finally {
          fresh?.disconnect();
        }
      }
    }
    this.status.paused = false;
    this.status.drained = false;
    delete this.status.pauseUntilMs;
    return started === undefined ? 0 : Math.max(0, endMs - started);
  }

  /** Ends the pause but keeps following: the migration may go on (and pause again) later. */
  private async liftPause(why: string): Promise<void> {
    const pausedMs = await this.unpauseNow();
    this.setState(null);
    await this.publishNow();
    await this.note(
      `${why}: source writes resumed after a ${pausedMs} ms pause; live sync goes on, and the write ` +
        'pause is taken again when the migration goes on',
    );
  }

  /** An abort lifts the pause at once, even while a drain is running. */
  private interruptForAbort(): void {
    this.lsAbort?.abort(new Error('the migration was aborted'));
    if (this.status?.paused && !this.unpausingForAbort) {
      this.unpausingForAbort = this.unpauseNow().then(async (ms) => {
        await this.publishNow();
        return ms;
      });
    }
  }

  private unpausingForAbort: Promise<number> | undefined;

  // ---- endings -------------------------------------------------------------------------------

  /** resume_writes: kill stale connections, apply the last changes, stop following, unpause. */
  private async resume(): Promise<void> {
    this.setState('resuming');
    await this.publishNow();
    const admin = this.admin!;
    const warnings: string[] = [];
    let killed: SourceClient[] = [];
    if (this.spec.killStaleClients) {
      try {
        const stale = await listSourceClients(admin);
        const result = await killClients(admin, stale);
        killed = stale.filter((c) => !result.refused.includes(c));
      } catch (err) {
        warnings.push(`could not kill stale source connections: ${errorMessage(err)}`);
      }
    }
    if (this.ls && this.lapsed) {
      // Writes may have reached the source while the pause was off: apply them before stopping.
      await this.ls.drain({ timeoutMs: this.options.timing.drainTimeoutMs }).catch((err) => {
        warnings.push(`the extra drain after the pause lapsed failed: ${errorMessage(err)}`);
      });
    }
    const consistent = await this.dropLiveSync(true);
    if (consistent === false) {
      warnings.push(
        'live sync reported a gap it could not reconcile before stopping: check the final verification',
      );
    }
    await this.restoreNotifyConfig();
    let remaining: SourceClient[] = [];
    try {
      remaining = await listSourceClients(admin);
    } catch {
      // Only for the report.
    }
    if (remaining.length > 0) {
      warnings.push(
        `${remaining.length} application connection(s) reached the source after the kill; their writes, if ` +
          'any, will not reach the target',
      );
    }
    const startedMs = this.status.pauseStartedMs;
    const pausedMs = await this.unpauseNow();
    const resume: ResumeReport = {
      pausedMs,
      pauseStartedAt: startedMs === undefined ? '' : new Date(startedMs).toISOString(),
      resumedAt: new Date().toISOString(),
      killed: killed.map(summary),
      clientsRemaining: remaining.map(summary),
      pauseLapsed: this.lapsed,
      warnings: [...this.status.warnings, ...warnings],
    };
    this.status.resume = resume;
    this.status.stoppedBecause = 'source writes resumed (resume_writes)';
    this.setState('stopped');
    await this.publishNow();
    await this.note(
      `source writes resumed after a ${pausedMs} ms pause; ${killed.length} stale connection(s) killed` +
        (warnings.length ? `; ${warnings.join('; ')}` : ''),
      { resume },
    );
  }

  /** stop (graceful: applies what was received) or abort (at once); lifts the pause first. */
  private async finish(goal: 'stop' | 'abort', because: string): Promise<void> {
    if (goal === 'abort') this.interruptForAbort();
    const wasPaused = this.status.paused || this.unpausingForAbort !== undefined;
    const pausedMs = (await this.unpausingForAbort) ?? (await this.unpauseNow());
    await this.dropLiveSync(goal === 'stop');
    await this.restoreNotifyConfig();
    this.status.stoppedBecause = because;
    this.setState('stopped');
    await this.publishNow();
    await this.note(
      `follower stopped: ${because}` +
        (wasPaused ? `; source writes resumed after a ${pausedMs} ms pause` : ''),
    );
  }

  /** Shutdown or fenced: stop following without touching the pause (the next holder renews it). */
  private async letGo(kind: 'fenced' | 'released'): Promise<FollowerOutcome> {
    this.stopRenewing();
    this.lsAbort?.abort(new Error('the follower let go'));
    const ls = this.ls;
    this.ls = undefined;
    await ls?.stop().catch(() => undefined);
    if (kind === 'released') {
      this.refresh();
      await this.ch.publish(this.ref, this.epoch, this.status, true).catch(() => false);
      return { kind: 'released' };
    }
    this.log.warn('fenced: another worker holds this follower run; stopping without touching the pause');
    return { kind: 'fenced' };
  }

  private async failWith(err: unknown): Promise<FollowerOutcome> {
    const message = errorMessage(err);
    if (this.fenced) return this.letGo('fenced');
    if (this.releasing) return this.letGo('released');
    this.log.error({ err: message }, 'follower failed');
    // The source never stays paused because its follower failed.
    if (this.status?.paused) await this.unpauseNow().catch(() => 0);
    await this.dropLiveSync().catch(() => undefined);
    if (this.admin) await this.restoreNotifyConfig().catch(() => undefined);
    if (this.status) {
      this.status.error = message;
      this.setState('failed');
      await this.publishNow().catch(() => undefined);
    }
    await this.note(`follower failed: ${message}`).catch(() => undefined);
    return { kind: 'failed', error: message };
  }

  // ---- status, lease -------------------------------------------------------------------------

  private initialStatus(previous: FollowerStatus | undefined): FollowerStatus {
    return {
      run: this.ref.run,
      epoch: this.epoch,
      worker: this.options.workerId,
      mode: this.spec.mode,
      state: 'starting',
      subscribed: false,
      applying: false,
      caughtUp: false,
      pendingKeys: 0,
      lagMs: 0,
      eventsReceived: 0,
      keysApplied: previous?.keysApplied ?? 0,
      ...(previous?.sourceIdentity ? { sourceIdentity: previous.sourceIdentity } : {}),
      reconnects: 0,
      rescans: 0,
      rescanPending: false,
      reconciledOnStart: false,
      handledSeq: previous?.handledSeq ?? 0,
      paused: false,
      drained: false,
      warnings: [...(previous?.warnings ?? [])],
      updatedAt: new Date().toISOString(),
      ...(previous?.drain ? { drain: previous.drain } : {}),
    };
  }

  private keysAppliedBefore = -1;

  /** Folds live sync's counters into the status and derives the state. */
  private refresh(): void {
    const s = this.status;
    if (this.ls) {
      const l = this.ls.status();
      if (this.keysAppliedBefore < 0) this.keysAppliedBefore = s.keysApplied;
      s.pendingKeys = l.pendingKeys;
      s.lagMs = l.oldestPendingAgeMs ?? 0;
      s.eventsReceived = l.eventsReceived;
      s.keysApplied = this.keysAppliedBefore + l.keysApplied;
      s.reconnects = l.reconnects;
      s.rescans = l.rescans;
      s.rescanPending = l.rescanPending;
      s.caughtUp = isCaughtUp(l, this.options.timing.caughtUpLagMs);
    } else {
      s.caughtUp = this.spec?.mode === 'pause-only' || (s.paused && s.drained);
    }
    if (s.paused && s.drained) s.caughtUp = true;
    this.setState(null);
  }

  /** Sets an explicit state, or (null) derives the steady one from the flags. */
  private setState(state: FollowerState | null): void {
    const s = this.status;
    if (state) {
      s.state = state;
      return;
    }
    if (s.state === 'stopped' || s.state === 'failed' || s.state === 'pausing' || s.state === 'resuming') {
      if (s.state === 'pausing' && !s.paused) s.state = 'starting';
      else return;
    }
    if (s.paused && s.drained) s.state = 'paused';
    else if (this.spec.mode === 'live' && !s.subscribed) s.state = 'starting';
    else if (this.spec.mode === 'pause-only') s.state = s.paused ? 'pausing' : 'starting';
    else if (!s.applying) s.state = 'collecting';
    else s.state = s.caughtUp ? 'following' : 'catching_up';
  }

  private publishNow(): Promise<void> {
    this.publishing = this.publishing.then(async () => {
      if (this.fenced) return;
      this.refresh();
      this.status.updatedAt = new Date().toISOString();
      try {
        const ok = await this.ch.publish(this.ref, this.epoch, this.status);
        if (!ok) this.fence();
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'could not publish the follower status');
      }
    });
    return this.publishing;
  }

  private startTimers(): void {
    const beat = Math.max(50, Math.floor(this.options.leaseMs / 3));
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), beat);
    this.publishTimer = setInterval(() => void this.publishNow(), this.options.timing.statusIntervalMs);
  }

  private stopTimers(): void {
    clearInterval(this.heartbeatTimer);
    clearInterval(this.publishTimer);
    this.stopRenewing();
  }

  private beating = false;

  private async heartbeat(): Promise<void> {
    // Commands to a control Redis that is down wait for the reconnect: bound the renewal, so being
    // out of touch is noticed (and renewals do not pile up).
    if (this.beating) {
      if (Date.now() - this.lastBeat > this.options.leaseMs) this.fence();
      return;
    }
    this.beating = true;
    try {
      const res = await withTimeout(
        this.ch.heartbeat(this.ref, this.epoch, this.options.leaseMs),
        this.options.leaseMs,
        'the follower lease renewal',
      );
      this.lastBeat = Date.now();
      if (res === 'lost') this.markLost();
      else if (res === 'fenced') this.fence();
      else if (res === 'aborted' && !this.abortFlag) this.abortNow();
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'follower lease renewal failed');
      // Out of touch for a whole lease: another worker may hold the run by now.
      if (Date.now() - this.lastBeat > this.options.leaseMs) this.fence();
    } finally {
      this.beating = false;
    }
  }

  private markLost(): void {
    if (this.lost || this.fenced) return;
    this.lost = true;
    this.lsAbort?.abort(new Error('the control Redis lost the migration'));
    this.wake();
  }

  /**
   * The control Redis no longer has the migration: nobody can drive or take over this run, so the
   * source is put back now (pause lifted, notifications restored) and live sync stops. The target
   * keeps what was applied so far: every change up to the moment live sync stopped.
   */
  private async finishLost(): Promise<FollowerOutcome> {
    this.stopRenewing();
    const wasPaused = this.status.paused;
    const pausedMs = wasPaused ? await this.unpauseNow().catch(() => 0) : 0;
    await this.dropLiveSync().catch(() => undefined);
    await this.restoreNotifyConfig().catch(() => undefined);
    const undone = [
      'live sync stopped',
      wasPaused ? `source writes resumed after a ${pausedMs} ms pause` : 'source writes were not paused',
      this.notifyOriginalSeen !== undefined && this.spec.live?.setConfig
        ? `notify-keyspace-events restored to "${this.notifyOriginalSeen}"`
        : undefined,
    ].filter(Boolean);
    const message =
      `the control Redis no longer has migration ${this.ref.migrationId} (it restarted without its data, ` +
      `or the keys were deleted): ${undone.join(', ')}. The target keeps the changes applied until now; ` +
      'it is not cut over. Give the control Redis persistence (appendonly yes), then plan and start the ' +
      'migration again (with --replace, as the target holds keys).';
    this.status.error = message;
    this.setState('failed');
    this.log.error({ warnings: this.status.warnings }, message);
    try {
      this.options.onControlLost?.({
        migrationId: this.ref.migrationId,
        migration: this.lastMigration,
        message,
      });
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'could not report the lost migration');
    }
    return { kind: 'lost', message };
  }

  private fence(): void {
    if (this.fenced) return;
    this.fenced = true;
    this.stopRenewing();
    this.lsAbort?.abort(new Error('fenced'));
    this.wake();
  }

  private warn(message: string): void {
    if (!this.status.warnings.includes(message)) this.status.warnings.push(message);
    this.log.warn(message);
  }

  private async note(message: string, data?: Record<string, unknown>): Promise<void> {
    await this.ch.note(this.ref.migrationId, this.actor, message, data).catch(() => undefined);
  }

  private async sourceNowMs(): Promise<number> {
    const [sec, usec] = (await this.admin!.time()) as unknown as [string, string];
    return Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
  }
}

function summary(c: SourceClient): SourceClientSummary {
  return { id: c.id, addr: c.addr, name: c.name, lastCommand: c.lastCommand };
}

/** Starting live sync: a source that blinks is tried again; a refusal (LiveSyncError) is final. */
async function startWithRetries(
  open: () => { ls: LiveSync; abort: AbortController },
  log: Logger,
  stopped: () => boolean,
  tries = 5,
): Promise<{ ls: LiveSync; abort: AbortController }> {
  for (let i = 1; ; i++) {
    const opened = open();
    try {
      await opened.ls.start();
      return opened;
    } catch (err) {
      if (err instanceof LiveSyncError || i >= tries || stopped()) throw err;
      log.warn({ err: errorMessage(err), attempt: i }, 'could not start live sync; trying again');
      await sleep(backoffMs(i, RETRY_BACKOFF));
    }
  }
}
