// Kept whole (over 500 lines): what is left is one state machine, the goal loop with how each goal
// is reached and each way a run ends, whose steps share the run's status and its flags (fenced,
// releasing, aborted, lost); every part with a concern of its own lives beside it (see below).
//
// The follower: one long-running job per migration that owns the live phase on the source.
//
// It holds a live feed (live mode: LiveSync over keyspace notifications, or a PsyncReplica applying
// the replication stream, see live-feed.ts) and the write pause, takes goals from the control Redis and
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
//
// Its parts: the write pause (pause-lease.ts), the claim's lease (run-lease.ts), live sync across
// restarts (live-sync-session.ts, psync-session.ts behind live-feed.ts), notify-keyspace-events (notify-setting.ts), whether the source
// is still the same server (source-check.ts), the status it publishes (follower-status.ts), the
// resume sequence (resume-writes.ts) and what it says when the control Redis lost the migration
// (control-lost.ts).

import type { Redis } from 'ioredis';
import { keyHolders } from '../../engine/cluster/nodes.js';
import { LiveSyncError } from '../../engine/live-sync/index.js';
import { parseInfo } from '../../probe/info.js';
import type { Endpoint } from '../../redis/endpoint.js';
import type { Migration } from '../../runbook/model.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { withTimeout } from '../../util/timeout.js';
import { Wakeup } from '../../util/wakeup.js';
import { migrationSourceIdentity } from '../shared/source-identity.js';
import { type ControlLost, controlLostMessage } from './control-lost.js';
import {
  derivedState,
  initialFollowerStatus,
  type LiveCounters,
  refreshFollowerStatus,
} from './follower-status.js';
import type { FeedDrain, LiveFeed } from './live-feed.js';
import { LiveSyncSession } from './live-sync-session.js';
import { NotifySetting } from './notify-setting.js';
import { PauseLease } from './pause-lease.js';
import { PsyncSession } from './psync-session.js';
import { resumeSourceWrites } from './resume-writes.js';
import { RunLease, renewEveryMs } from './run-lease.js';
import { checkSourceUnchanged, readSourceIdentity } from './source-check.js';
import { openSourceNodes, type SourceNodes } from './source-nodes.js';
import { effectiveGoal, type FollowerSpec, followerSpec, reconcileDecision, repointStarted } from './spec.js';
import type {
  FollowerChannel,
  FollowerCommand,
  FollowerGoal,
  FollowerRef,
  FollowerState,
  FollowerStatus,
  LivePhaseTiming,
  ResumeReport,
} from './types.js';

export type { ControlLost } from './control-lost.js';

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

export class Follower {
  private readonly ref: FollowerRef;
  private readonly ch: FollowerChannel;
  private readonly log: Logger;
  private readonly actor: string;
  private spec!: FollowerSpec;
  private epoch = 0;
  private status!: FollowerStatus;

  private admin: Redis | undefined;
  /** Every source node (the admin connection first): the pause and notification setting go to each. */
  private nodes: SourceNodes | undefined;
  /** The write pause on the source (from the admin connection on). */
  private writePause: PauseLease | undefined;
  /** The live feed (live mode): notifications or psync. */
  private liveSync: LiveFeed | undefined;
  private notify!: NotifySetting;
  private reconcileNext = false;

  private runLease: RunLease | undefined;
  private publishTimer: NodeJS.Timeout | undefined;
  private publishing: Promise<void> = Promise.resolve();

  private fenced = false;
  /** The migration or this follower's record vanished from the control Redis. */
  private lost = false;
  /** The last migration read, for the Slack thread when the control Redis loses it. */
  private lastMigration: Migration | undefined;
  /** Ends a goal read in flight once the loss is known (its connection may still be reconnecting). */
  private readonly lostKnown = new AbortController();
  private releasing = false;
  private abortFlag = false;
  private failedSeq = -1;
  private readonly wakeup = new Wakeup();

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
    this.wakeup.wake();
  }

  /** The migration was aborted (pub/sub): lift the pause now rather than at the next heartbeat. */
  abortNow(): void {
    this.abortFlag = true;
    this.interruptForAbort();
    this.wake();
  }

  /**
   * Whoever started this follower read the migration gone from the control Redis (the CLI's own
   * poll often sees it first): the source is put back now, as when the follower finds it itself.
   * Said before a shutdown's release(), it wins over the hand-over: nobody could take the run over,
   * and a hand-over would leave the pause to lapse by itself.
   */
  migrationLost(): void {
    this.markLost();
  }

  /** Shutdown: let go of the run without touching the pause; another worker takes over. */
  release(): void {
    this.releasing = true;
    this.writePause?.release();
    this.liveSync?.interrupt('the follower is handing over');
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
    this.spec = followerSpec(migration ?? { steps: [] });
    this.notify = new NotifySetting({
      channel: ch,
      migrationId: ref.migrationId,
      setConfig: this.spec.live?.setConfig ?? false,
      warn: (message) => this.warn(message),
      logger: this.log,
    });
    await this.notify.load();
    this.status = initialFollowerStatus(
      { ref, epoch: this.epoch, worker: this.options.workerId, mode: this.spec.mode },
      previous,
    );
    this.startTimers();
    try {
      await this.note(
        restart
          ? `follower run ${ref.run} taken over by ${this.options.workerId} (execution ${claim.epoch}, was ${previous?.state ?? 'starting'})`
          : `follower run ${ref.run} started on ${this.options.workerId} (${this.spec.mode === 'live' ? 'live sync and write pause' : 'write pause only'})`,
      );
      this.nodes = await openSourceNodes(this.options.endpoints.source, {
        role: 'live-phase',
        maxReconnects: 20,
      });
      this.admin = this.nodes.admin;
      const live = this.spec.live;
      if (live) this.liveSync = await this.openFeed(live, this.nodes.cluster);
      this.status.sourceIdentity ??=
        (migration && migrationSourceIdentity(migration)) ??
        (await readSourceIdentity(
          this.admin,
          this.spec.live?.dbs ?? 'all',
          (m) => this.warn(m),
          this.nodes.cluster,
        ));
      // A pause that was on stays on: re-establish it before anything else (unless the migration
      // ended meanwhile: then the loop below lifts it at once anyway).
      const ending = ['abort', 'stop'].includes(effectiveGoal(claim.command.goal, migration, false).goal);
      this.writePause = new PauseLease({
        connection: this.admin,
        nodes: this.nodes.all,
        source: this.options.endpoints.source,
        pause: this.spec.pause,
        warn: (message) => this.warn(message),
        logger: this.log,
      });
      if (this.fenced || this.releasing) this.writePause.release();
      if (previous?.paused && !ending) {
        await this.writePause.retake(previous);
        await this.publishNow();
      } else if (previous?.paused) this.writePause.adopt(previous);
      const decision = reconcileDecision({
        launchedWithReconcile: claim.reconcile,
        restart,
        previous,
        lapsed: this.writePause?.lapsed ?? false,
        repointStarted: migration ? repointStarted(migration) : false,
      });
      this.reconcileNext = decision.reconcile;
      // A psync feed continues from its offset: it never re-copies, so it leaves no such gap.
      if (decision.warning && (restart || claim.reconcile) && this.liveSync?.kind !== 'psync') {
        this.warn(decision.warning);
      }
      return await this.loop(claim.command);
    } catch (err) {
      return await this.failWith(err);
    } finally {
      this.stopTimers();
      this.nodes?.disconnect();
      await this.liveSync?.settled?.().catch(() => undefined);
    }
  }

  private async openFeed(
    live: NonNullable<FollowerSpec['live']>,
    sourceIsCluster: boolean,
  ): Promise<LiveFeed> {
    const stopped = () => this.releasing || this.fenced;
    if (live.feed === 'notifications') {
      return new LiveSyncSession({
        endpoints: this.options.endpoints,
        // Notifications are node-local in a cluster, and keys go where their slot lives.
        across: sourceIsCluster || (await keyHolders(this.options.endpoints.target)).cluster,
        live,
        statusIntervalMs: this.options.timing.statusIntervalMs,
        onFailure: () => this.wake(),
        stopped,
        logger: this.log,
      });
    }
    return new PsyncSession({
      endpoints: this.options.endpoints,
      mapping: { dbs: live.dbs, ...(live.remap ? { remap: live.remap } : {}) },
      onNonEmptyTarget: live.onNonEmptyTarget,
      resume: {
        load: () => this.ch.psyncResume(this.ref.migrationId),
        save: async (point) => {
          if (this.fenced) return;
          if (!(await this.ch.savePsyncResume(this.ref, this.epoch, point))) this.fence();
        },
      },
      onFailure: () => this.wake(),
      sourceReplication: async () => {
        const repl = parseInfo(await this.admin!.info('replication'))['replication'] ?? {};
        return { replid: repl.master_replid ?? '', offset: Number(repl.master_repl_offset ?? -1) };
      },
      repointStarted: async () => {
        const m = await this.options.readMigration();
        return m ? repointStarted(m) : true;
      },
      warn: (message) => this.warn(message),
      note: (message, data) => void this.note(message, data),
      caughtUpLagMs: this.options.timing.caughtUpLagMs,
      stopped,
      logger: this.log,
    });
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
        const bounded = withTimeout(read, this.releasing ? 2000 : undefined, 'reading the goal');
        const got = await untilAborted(bounded, this.lostKnown.signal);
        if (!got) return this.finishLost();
        [cmd, migration] = got;
      } catch (err) {
        // The loss was known meanwhile: that, not the read that failed, says what to do.
        if (this.lost) return this.finishLost();
        if (this.releasing) return this.letGo('released');
        // The control Redis blinked: carry on as we are (the lease says when to give up).
        this.log.warn({ err: errorMessage(err) }, 'could not read the goal; trying again');
        await this.idle(renewEveryMs(this.options.leaseMs));
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
      await this.idle(renewEveryMs(this.options.leaseMs));
    }
  }

  private async converge(goal: FollowerGoal, because?: string): Promise<void> {
    // Whatever the goal (even a pause already drained): a source that changed ends the run.
    if (this.liveSync?.final) throw new LiveSyncError(this.liveSync.failure ?? 'the source changed', true);
    switch (goal) {
      case 'collect':
        await this.ensureLive(true);
        return;
      case 'follow':
        // Following never holds the source's writes (a pause whose gate expired is lifted here).
        if (this.paused) await this.liftPause(because ?? 'the goal is to follow, not to pause');
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
    return this.wakeup.wait(ms);
  }

  // ---- live sync -----------------------------------------------------------------------------

  /** Live sync subscribed (and applying unless `hold`); restarted with a reconcile pass after a failure. */
  private async ensureLive(hold: boolean): Promise<void> {
    const session = this.liveSync;
    if (!session) return;
    if (session.attached && session.failure === undefined) {
      if (!hold && !this.status.applying) {
        session.startApplying();
        this.status.applying = true;
        this.refresh();
        await this.publishNow();
      }
      return;
    }
    if (session.attached && session.failure !== undefined) {
      const why = session.failure;
      await this.dropLiveSync();
      if (session.final) throw new LiveSyncError(why, true);
      if (this.paused && this.status.drained) {
        // Nothing changes on a drained, paused source: live sync is not needed to finish.
        this.warn(`live sync stopped while writes were paused (${why}); the resume goes on without it`);
        return;
      }
      const migration = await this.options.readMigration();
      const decision = reconcileDecision({
        launchedWithReconcile: true,
        restart: true,
        previous: undefined,
        lapsed: this.writePause?.lapsed ?? false,
        repointStarted: migration ? repointStarted(migration) : false,
      });
      this.reconcileNext = decision.reconcile;
      if (decision.warning && session.kind !== 'psync') this.warn(decision.warning);
      this.log.warn({ err: why }, 'live sync failed; starting it again');
    }
    // Live sync failed earlier under a drained pause: it stays off (see above).
    if (this.paused && this.status.drained && session.starts > 0) return;
    session.assertMayStart();
    for (const node of this.nodes!.all) await this.notify.ensure(node.conn);
    const reconcile = this.reconcileNext;
    await session.start({
      hold,
      reconcile,
      // The setting was checked when this migration's live sync first started.
      trustNotifyConfig: this.paused,
      sourceIdentity: this.status.sourceIdentity,
      sourceIdentities: this.status.sourceIdentities,
    });
    this.status.sourceIdentity ??= session.sourceIdentity();
    this.status.sourceIdentities ??= session.sourceIdentities?.();
    this.status.subscribed = true;
    this.status.applying = !hold;
    this.status.reconciledOnStart = this.status.reconciledOnStart || reconcile;
    // Any later start is after a failure: it reconciles (when it may).
    this.reconcileNext = false;
    this.refresh();
    await this.publishNow();
  }

  private async dropLiveSync(graceful = false): Promise<boolean | undefined> {
    const stopped = await this.liveSync?.stop(graceful, this.status.keysApplied);
    if (!stopped) return undefined;
    this.refresh(stopped.last);
    this.status.subscribed = false;
    this.status.applying = false;
    this.status.pendingKeys = 0;
    this.status.lagMs = 0;
    return stopped.consistent;
  }

  private async restoreNotifyConfig(): Promise<void> {
    for (const node of this.nodes?.all ?? []) await this.notify.restore(node.conn, this.lost);
  }

  // ---- the write pause -----------------------------------------------------------------------

  /** Writes paused on the source and every change made before the pause applied to the target. */
  private async ensurePaused(): Promise<void> {
    if (this.paused && this.status.drained) return;
    await this.ensureLive(false);
    if (!this.paused) {
      // Never pause a server that is no longer the source being migrated (e.g. now a replica).
      await checkSourceUnchanged(
        this.admin!,
        {
          endpoint: this.options.endpoints.source,
          baseline: this.status.sourceIdentity,
          dbs: this.spec.live?.dbs ?? 'all',
          clusterNode: this.nodes!.cluster,
        },
        'before the write pause',
        'writes were not paused; nothing more was applied to the target; the target keeps what it had',
      );
      this.setState('pausing');
      await this.publishNow();
      await this.pauseNow();
    }
    this.setState('pausing');
    await this.publishNow();
    if (this.liveSync?.attached) {
      try {
        const drained: FeedDrain = await this.liveSync.drain(this.options.timing.drainTimeoutMs);
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
    const pausedSince = this.writePause?.fields().pauseStartedAt;
    await this.note(`source writes paused since ${pausedSince ?? 'now'}` + drainedText(this.status.drain), {
      pauseStartedAt: pausedSince ?? null,
      drain: this.status.drain ?? null,
    });
  }

  /** Pauses writes (renewed until lifted); every change made before it is still to drain. */
  private async pauseNow(): Promise<void> {
    await this.writePause!.take();
    this.status.drained = false;
  }

  /** Lifts the pause; returns the measured pause (0 when writes were not paused). */
  private async unpauseNow(): Promise<number> {
    if (!this.writePause) return 0;
    const wasPaused = this.writePause.paused;
    const pausedMs = await this.writePause.lift();
    if (wasPaused) this.status.drained = false;
    return pausedMs;
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
    this.liveSync?.interrupt('the migration was aborted');
    if (this.paused && !this.unpausingForAbort) {
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
    const { warnings, ...report } = await resumeSourceWrites({
      nodes: this.nodes!.all,
      killStaleClients: this.spec.killStaleClients,
      lease: this.writePause!,
      liveSync: this.liveSync,
      drainTimeoutMs: this.options.timing.drainTimeoutMs,
      stopLiveSync: () => this.dropLiveSync(true),
      restoreNotify: () => this.restoreNotifyConfig(),
      unpause: () => this.unpauseNow(),
    });
    const resume: ResumeReport = { ...report, warnings: [...this.status.warnings, ...warnings] };
    this.status.resume = resume;
    this.status.stoppedBecause = 'source writes resumed (resume_writes)';
    this.setState('stopped');
    await this.publishNow();
    await this.note(
      `source writes resumed after a ${resume.pausedMs} ms pause; ${resume.killed.length} stale connection(s) killed` +
        (warnings.length ? `; ${warnings.join('; ')}` : ''),
      { resume },
    );
  }

  /** stop (graceful: applies what was received) or abort (at once); lifts the pause first. */
  private async finish(goal: 'stop' | 'abort', because: string): Promise<void> {
    if (goal === 'abort') this.interruptForAbort();
    const wasPaused = this.paused || this.unpausingForAbort !== undefined;
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
    this.writePause?.release();
    await this.liveSync?.abandon();
    if (kind === 'released') {
      this.refresh();
      await this.ch.publish(this.ref, this.epoch, this.status, true).catch(() => 'fenced');
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
    if (this.paused) await this.unpauseNow().catch(() => 0);
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

  // ---- status, run lease ---------------------------------------------------------------------

  /** Folds the pause and live sync's counters (or `last`, of one just stopped) into the status. */
  private refresh(last?: LiveCounters): void {
    this.syncPause();
    const live = last ?? this.liveSync?.counters(this.status.keysApplied);
    refreshFollowerStatus(this.status, this.spec.mode, live, this.options.timing.caughtUpLagMs);
  }

  /** Sets an explicit state, or (null) derives the steady one from the flags. */
  private setState(state: FollowerState | null): void {
    this.syncPause();
    this.status.state = state ?? derivedState(this.status, this.spec.mode);
  }

  /** Writes are paused on the source (the write pause is the authority; the status mirrors it). */
  private get paused(): boolean {
    return this.writePause?.paused ?? false;
  }

  private syncPause(): void {
    if (!this.writePause) return;
    delete this.status.pauseUntilMs;
    Object.assign(this.status, this.writePause.fields());
  }

  private publishNow(): Promise<void> {
    this.publishing = this.publishing.then(async () => {
      if (this.fenced) return;
      this.refresh();
      this.status.updatedAt = new Date().toISOString();
      try {
        const res = await this.ch.publish(this.ref, this.epoch, this.status);
        if (res === 'lost') this.markLost();
        else if (res === 'fenced') this.fence();
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'could not publish the follower status');
      }
    });
    return this.publishing;
  }

  private startTimers(): void {
    this.runLease = new RunLease({
      channel: this.ch,
      ref: this.ref,
      epoch: this.epoch,
      leaseMs: this.options.leaseMs,
      on: {
        fenced: () => this.fence(),
        aborted: () => {
          if (!this.abortFlag) this.abortNow();
        },
        lost: () => this.markLost(),
      },
      logger: this.log,
    });
    this.runLease.start();
    this.publishTimer = setInterval(() => void this.publishNow(), this.options.timing.statusIntervalMs);
  }

  private stopTimers(): void {
    this.runLease?.stop();
    clearInterval(this.publishTimer);
    this.writePause?.release();
  }

  private markLost(): void {
    if (this.lost || this.fenced) return;
    this.lost = true;
    this.lostKnown.abort();
    this.liveSync?.interrupt('the control Redis lost the migration');
    this.wake();
  }

  /**
   * The control Redis no longer has the migration: nobody can drive or take over this run, so the
   * source is put back now (pause lifted, notifications restored) and live sync stops. The target
   * keeps what was applied so far: every change up to the moment live sync stopped.
   */
  private async finishLost(): Promise<FollowerOutcome> {
    this.writePause?.release();
    const wasPaused = this.paused;
    const pausedMs = wasPaused ? await this.unpauseNow().catch(() => 0) : 0;
    await this.dropLiveSync().catch(() => undefined);
    await this.restoreNotifyConfig().catch(() => undefined);
    const message = controlLostMessage(this.ref.migrationId, {
      pausedMs: wasPaused ? pausedMs : undefined,
      notifyRestoredTo: this.notify.original,
    });
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
    this.writePause?.release();
    this.liveSync?.interrupt('fenced');
    this.wake();
  }

  private warn(message: string): void {
    if (!this.status.warnings.includes(message)) this.status.warnings.push(message);
    this.log.warn(message);
  }

  private async note(message: string, data?: Record<string, unknown>): Promise<void> {
    await this.ch.note(this.ref.migrationId, this.actor, message, data).catch(() => undefined);
  }
}

/** `promise`'s value, or undefined as soon as `signal` aborts (the promise is left to settle). */
async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return undefined;
  promise.catch(() => undefined);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

function drainedText(drain: FollowerStatus['drain']): string {
  if (!drain) return '';
  if (drain.offset !== undefined) {
    return `; the applied offset reached the source's master_repl_offset ${drain.offset} in ${drain.durationMs} ms`;
  }
  return `; drained ${drain.keysApplied} changes in ${drain.durationMs} ms`;
}
