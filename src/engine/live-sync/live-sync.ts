// Live sync: follows changes on the source through keyspace notifications and applies them to the
// target while the applications still write to the source (dump-restore strategy).
//
// How it stays correct:
// - Notifications say *which* key changed, never *how*: each notified key is marked dirty and later
//   copied whole (copyKeySet reads the source's current state; a key gone from the source is deleted
//   on the target). A change always publishes its notification before the writer gets its reply,
//   and the key is copied after that notification arrived, so the copy reads a state at least as new
//   as the change. A batch is taken out of the dirty set *before* it is read, so a change during the
//   copy dirties the key again. A few batches are applied at once, but a key in flight is never put in
//   another batch until its copy is done, so two copies of one key never race (pending-changes.ts).
// - Notifications are fire-and-forget: whatever is published while the subscriber is disconnected is
//   lost (subscriber.ts). Any reconnect (and any overflow of the bounded dirty set) therefore triggers
//   a reconcile pass: re-copy every selected key and delete target keys the source no longer has. The
//   flusher is held during the pass (see reconcile.ts) and catches up on what changed meanwhile right
//   after.
// - FLUSHALL, FLUSHDB and SWAPDB publish no notification at all, nor does a replica reloading after
//   a full resync: silent-drops.ts tells such drops from key counts and asks for a reconcile pass,
//   or fails live sync when most of a db vanished (the source was flushed under the migration).
// - The source's identity is checked before every batch, after any reconnect, on every keyspace
//   check and before a reconcile pass writes or deletes (identity-watch.ts): a source that became a
//   replica or restarted fails live sync for good (LiveSyncError.final). A target that restarted or
//   lost most of its keys gets a reconcile pass (also checked in drain()).
// - notify-keyspace-events is checked, set or proven by a canary first (notify-setup.ts); subscribing
//   comes next, the initial reconcile (if any) last: no change can fall in between.
//
// This class holds the lifecycle (start, drain, stop, failure, status) and turns notifications into
// pending changes; apply-loop.ts is the one writer to the target. drain() is the cutover barrier;
// see its comment.

import type { Redis } from 'ioredis';
import { connect } from '../../redis/connect.js';
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { errorMessage, UserError } from '../../util/errors.js';
import type { ServerIdentity } from '../identity/index.js';
import { ApplyLoop } from './apply-loop.js';
import { NON_CHANGING_EVENTS, parseNotification } from './channels.js';
import { type Copier, engineCopier } from './copier.js';
import { globMatcher } from './glob.js';
import { IdentityWatch } from './identity-watch.js';
import { LiveSyncError } from './live-sync-error.js';
import { NotifySetup } from './notify-setup.js';
import { type LiveSyncLimits, type LiveSyncOptions, limitsOf } from './options.js';
import { PendingChanges } from './pending-changes.js';
import { parseInfoKeyspace } from './reconcile.js';
import { flushedDetail, SilentDropDetector, silentDropReason } from './silent-drops.js';
import type { DrainReport, LiveSyncReport, LiveSyncState, LiveSyncStatus } from './status.js';
import { NotificationSubscriber } from './subscriber.js';
import { Waiters } from './waiters.js';

export class LiveSync {
  private readonly opts: LiveSyncLimits;
  private readonly where: string;
  private readonly copier: Copier;
  private readonly pending: PendingChanges;
  private readonly matches: (key: Buffer) => boolean;
  private readonly dbFilter: ((db: number) => boolean) | null;
  private readonly identity: IdentityWatch;
  private readonly silentDrops: SilentDropDetector;
  private readonly loop: ApplyLoop;
  private readonly internal = new AbortController();
  private readonly waiters = new Waiters();

  private state: LiveSyncState = 'idle';
  private control: Redis | undefined;
  private notify: NotifySetup | undefined;
  private sub: NotificationSubscriber | undefined;
  private applying: boolean;
  private seq = 0;
  private restoredNotify: string | null = null;
  private failure: LiveSyncError | null = null;
  private timers: NodeJS.Timeout[] = [];
  private checkingKeyspace = false;
  private unlinkSignal: (() => void) | null = null;
  private tornDown: Promise<void> | null = null;

  private eventsReceived = 0;
  private dirtyOverflows = 0;
  private silentDropsDetected = 0;
  private lastEventAt: number | null = null;

  constructor(
    private readonly source: Endpoint,
    target: Endpoint,
    private readonly options: LiveSyncOptions,
  ) {
    this.opts = limitsOf(options);
    if (options.dbs !== 'all' && options.dbs.length === 0) throw new RangeError('dbs must not be empty');
    if (source.cluster && !options.across) {
      // Notifications are node-local in a cluster: LiveSyncAcross (across.ts) follows every primary.
      throw new UserError(
        `live sync follows one server here; ${describeEndpoint(source)} is a cluster: use LiveSyncAcross`,
      );
    }
    this.where = describeEndpoint(source);
    this.pending = new PendingChanges(this.opts.maxDirtyKeys);
    this.matches = globMatcher(options.match ?? '*');
    const dbs = options.dbs === 'all' ? null : new Set(options.dbs);
    this.dbFilter = dbs ? (db) => dbs.has(db) : null;
    this.identity = new IdentityWatch(this.where, target, {
      ...options,
      clusterNode: options.across?.clusterNode,
      watchTarget: !options.across,
    });
    this.silentDrops = new SilentDropDetector(this.dbFilter);
    this.applying = !options.holdApply;
    // engineCopier takes what it needs of the options (mode, big-key threshold, logger, remap).
    this.copier = options.copier ?? engineCopier(source, target, options);
    this.loop = new ApplyLoop(
      {
        canWork: () => this.canWork(),
        subscribed: () => this.subscribed(),
        changed: () => this.waiters.notify(),
        rescanning: (running) => this.onRescanning(running),
        failed: (err) => this.fail(err),
      },
      this.pending,
      this.copier,
      this.identity,
      () => this.silentDrops.lastTotal(),
      {
        source,
        target,
        dbs: options.dbs,
        remap: options.remap,
        match: options.match,
        batchSize: this.opts.batchSize,
        concurrency: this.opts.concurrency,
        maxApplyFailures: this.opts.maxApplyFailures,
        signal: this.internal.signal,
        logger: options.logger,
        reconcilePass: options.across
          ? (signal, before) => options.across!.reconcile(signal, before)
          : undefined,
      },
    );
  }

  /**
   * Checks (or sets) notify-keyspace-events, subscribes, and starts applying changes (unless
   * holdApply). Resolves once the subscription is active: every change from then on is followed.
   */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error('LiveSync.start() can only be called once');
    this.state = 'starting';
    try {
      this.options.signal?.throwIfAborted();
      this.control = await connect(this.source, { role: 'live-sync-control' });
      await this.identity.capture(this.control);
      this.notify = new NotifySetup(this.control, this.where, {
        ...this.options,
        canaryTag: this.options.across?.canaryTag,
      });
      const verifyByCanary = await this.notify.ensure();
      this.sub = new NotificationSubscriber(
        this.source,
        this.where,
        {
          message: (channel, message) => this.onNotification(channel, message),
          gap: () => this.onGap(),
          resubscribed: () => {
            this.loop.kick();
            this.waiters.notify();
          },
          lost: (err) => this.fail(err),
          active: () => !this.isTerminal(),
        },
        { maxReconnects: this.opts.maxReconnects, logger: this.options.logger },
      );
      await this.sub.open(this.notify.kind, this.options.dbs);
      if (verifyByCanary) await this.notify.canaryCheck(this.options.dbs);
    } catch (err) {
      this.state = 'failed';
      await this.teardown();
      throw err;
    }
    this.state = 'following';
    if (this.options.signal) {
      const onAbort = () => this.abortNow();
      this.options.signal.addEventListener('abort', onAbort, { once: true });
      this.unlinkSignal = () => this.options.signal?.removeEventListener('abort', onAbort);
    }
    this.timers.push(setInterval(() => this.emitStatus(), this.opts.statusIntervalMs).unref());
    if (this.opts.keyspaceCheckIntervalMs > 0) {
      const timer = setInterval(() => void this.checkKeyspace(), this.opts.keyspaceCheckIntervalMs);
      this.timers.push(timer.unref());
    }
    this.options.logger?.info(
      { source: this.where, patterns: this.sub.patterns, applying: this.applying },
      'live sync following the source',
    );
    if (this.options.reconcileOnStart) this.loop.requestRescan('reconcile requested at start');
    this.emitStatus();
    this.loop.kick();
  }

  /** The source's identity this live sync checks against (to be kept by whoever resumes it). */
  sourceIdentity(): ServerIdentity | undefined {
    return this.identity.baseline;
  }

  /** Starts applying the changes collected since start() (after the bulk copy finished). */
  startApplying(): void {
    if (this.applying) return;
    this.applying = true;
    this.loop.kick();
  }

  /**
   * Barrier for the cutover: resolves once every change the source acknowledged before this call
   * has been applied to the target. Call it after writes are paused (CLIENT PAUSE WRITE), otherwise
   * later changes keep coming (they are applied too, but are not waited for).
   *
   * Why this is sound: Redis publishes a keyspace notification while it executes the command,
   * into the subscriber's output buffer, before the writer even gets its reply. The PING below is
   * sent now, so it is executed after every acknowledged write, and its reply is queued behind every
   * notification published before it (RESP2 allows PING in subscribed mode and replies stay in
   * order on a connection). When the reply arrives, every one of those notifications has been
   * received and marked dirty. Waiting until no dirty key with an older sequence number is pending
   * or in flight then covers them all. A gap (disconnect) that opened before the reply asked for a
   * reconcile pass, and an overflow of the dirty set dropped entries: both are waited for too.
   */
  async drain(options: { timeoutMs?: number } = {}): Promise<DrainReport> {
    this.assertUsable('drain');
    if (!this.applying) throw new Error('drain() needs live sync to be applying: call startApplying() first');
    const started = Date.now();
    const appliedBefore = this.loop.totals.keysApplied;
    const deadline = options.timeoutMs === undefined ? undefined : started + options.timeoutMs;
    // A target that lost keys since the last keyspace check gets its reconcile pass inside the barrier.
    await this.checkTarget().catch((err: unknown) => {
      this.options.logger?.warn({ err: errorMessage(err) }, 'could not check the target before draining');
    });
    await this.sub!.ping(remaining(deadline), 'the drain barrier (PING on the subscriber)');
    const barrierSeq = this.seq;
    const rescanGen = this.loop.rescanGen;
    this.loop.kick();
    await this.waitUntil(
      () => this.pending.minSeq() > barrierSeq && this.loop.rescansCover(rescanGen),
      remaining(deadline),
      'draining pending changes',
    );
    return { durationMs: Date.now() - started, keysApplied: this.loop.totals.keysApplied - appliedBefore };
  }

  /**
   * Stops following: unsubscribes, applies what was already received (and finishes a pending
   * reconcile pass), closes connections and restores notify-keyspace-events if live sync changed it.
   */
  async stop(): Promise<LiveSyncReport> {
    if (this.state === 'idle') {
      this.state = 'stopped';
      return this.report(true);
    }
    if (this.state === 'stopped' || this.state === 'aborted' || this.state === 'failed') {
      await this.teardown();
      return this.report(this.state === 'stopped' && !this.loop.rescanPending);
    }
    if (this.state === 'stopping') throw new Error('LiveSync.stop() is already running');
    this.state = 'stopping';
    this.clearTimers();
    await this.sub?.unsubscribe();
    if (this.applying) {
      this.loop.kick();
      // A reconcile pass can only run while subscribed; if a gap is open there is no point waiting.
      await this.waitUntil(
        () =>
          this.loop.idle &&
          this.pending.batchesInFlight === 0 &&
          this.pending.waiting === 0 &&
          (!this.loop.rescanPending || !this.subscribed()),
        undefined,
        'applying the last changes',
      ).catch(() => undefined);
    }
    const consistent =
      this.applying && this.failure === null && this.pending.waiting === 0 && !this.loop.rescanPending;
    if (this.state === 'stopping') this.state = 'stopped';
    await this.teardown();
    this.emitStatus();
    this.options.logger?.info({ source: this.where, consistent }, 'live sync stopped');
    return this.report(consistent);
  }

  status(): LiveSyncStatus {
    const now = Date.now();
    const pendingSince = this.pending.oldestSince();
    const applied = this.loop.totals;
    // In the order status lines and JSON output have always shown.
    return {
      state: this.state,
      applying: this.applying,
      eventsReceived: this.eventsReceived,
      keysApplied: applied.keysApplied,
      keysDeleted: applied.keysDeleted,
      keysFailed: applied.keysFailed,
      reconnects: this.sub?.reconnects ?? 0,
      rescans: applied.rescans,
      extrasDeleted: applied.extrasDeleted,
      dirtyOverflows: this.dirtyOverflows,
      silentDropsDetected: this.silentDropsDetected,
      pendingKeys: this.pending.count(),
      oldestPendingAgeMs: pendingSince === null ? null : now - pendingSince,
      lastEventAgeMs: this.lastEventAt === null ? null : now - this.lastEventAt,
      lastRescanReason: this.loop.lastRescanReason,
      rescanPending: this.loop.rescanPending,
      channel: this.notify?.kind ?? 'keyevent',
      lastError: this.failure ? this.failure.message : this.loop.lastError,
    };
  }

  // --- notifications ------------------------------------------------------------------------

  private onNotification(channel: Buffer, message: Buffer): void {
    this.eventsReceived++;
    this.lastEventAt = Date.now();
    const n = parseNotification(this.notify!.kind, channel, message);
    if (!n) return;
    this.notify!.observe(n.event, n.key);
    this.silentDrops.noteEvent(n.db, n.event);
    if (NON_CHANGING_EVENTS.has(n.event)) return;
    if (this.dbFilter && !this.dbFilter(n.db)) return;
    if (!this.matches(n.key)) return;
    const added = this.pending.add(n.db, n.key, ++this.seq, this.lastEventAt);
    if (added === 'overflow') {
      // Dropping what we know is safe only because a full reconcile pass follows.
      this.dirtyOverflows++;
      this.pending.dropDirty();
      this.loop.requestRescanForOverflow(
        `more than ${this.opts.maxDirtyKeys} keys changed before they could be applied`,
      );
      this.pending.add(n.db, n.key, this.seq, this.lastEventAt);
    }
    if (added !== 'pending') this.loop.kick();
  }

  /** From now on notifications are lost: the reconcile pass runs once subscribed again. */
  private onGap(): void {
    // Deletes during the gap go uncounted: the key-count baseline starts over after it.
    this.silentDrops.reset();
    this.loop.requestRescan('the notification subscriber was disconnected; changes meanwhile were missed');
  }

  private subscribed(): boolean {
    return this.sub?.subscribed ?? false;
  }

  private canWork(): boolean {
    return (
      this.applying &&
      this.failure === null &&
      (this.state === 'following' || this.state === 'rescanning' || this.state === 'stopping')
    );
  }

  private onRescanning(running: boolean): void {
    if (running) {
      if (this.state === 'following') this.state = 'rescanning';
    } else {
      if (this.state === 'rescanning') this.state = 'following';
      this.waiters.notify();
    }
    this.emitStatus();
  }

  // --- periodic checks ----------------------------------------------------------------------

  /** Keys vanishing without notifications (silent-drops.ts), and the identities of both sides. */
  private async checkKeyspace(): Promise<void> {
    if (this.checkingKeyspace || this.state !== 'following' || !this.subscribed() || !this.applying) return;
    this.checkingKeyspace = true;
    try {
      await this.identity.checkSource('during live sync');
      // A target that cannot be read now is no reason to skip the source's counts.
      await this.checkTarget().catch((err: unknown) => {
        this.options.logger?.debug({ err: errorMessage(err) }, 'target check skipped');
      });
      const keys = parseInfoKeyspace(await this.control!.info('keyspace'));
      // After this reply, every notification for a change made before INFO has been counted.
      await this.sub!.ping(5000, 'PING');
      const drop = this.silentDrops.sample(keys);
      if (drop) {
        this.silentDropsDetected++;
        // Following a flush (or a resync) of the source under us would delete the target's keys too.
        if (drop.flushed) {
          throw this.identity.final({ kind: 'dataset', detail: flushedDetail(drop) }, 'during live sync');
        }
        this.loop.requestRescan(silentDropReason(drop));
      }
    } catch (err) {
      if (err instanceof LiveSyncError && err.final) this.fail(err);
      else this.options.logger?.debug({ err: errorMessage(err) }, 'keyspace check skipped');
    } finally {
      this.checkingKeyspace = false;
    }
  }

  /**
   * A target that restarted or lost most of its keys while changes are applied: a reconcile pass
   * copies everything again (RESTORE REPLACE) and deletes nothing the source has.
   */
  private async checkTarget(): Promise<void> {
    const reason = await this.identity.checkTarget();
    if (reason) this.loop.requestRescan(reason);
  }

  // --- lifecycle ----------------------------------------------------------------------------

  private isTerminal(): boolean {
    return this.state === 'stopped' || this.state === 'failed' || this.state === 'aborted';
  }

  private assertUsable(what: string): void {
    if (this.failure) throw this.failure;
    if (this.state === 'idle' || this.state === 'starting') throw new Error(`${what}() before start()`);
    if (this.isTerminal() || this.state === 'stopping') throw new Error(`${what}() after stop()`);
  }

  private waitUntil(cond: () => boolean, timeoutMs: number | undefined, what: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return this.waiters.until(cond, timeoutMs, () => {
      const s = this.status();
      return new LiveSyncError(
        `live sync timed out ${what} after ${timeoutMs} ms (${s.pendingKeys} keys pending, ` +
          `state ${s.state}${s.lastError ? `, last error: ${s.lastError}` : ''})`,
      );
    });
  }

  private fail(err: LiveSyncError): void {
    if (this.failure || this.isTerminal()) return;
    this.failure = err;
    this.state = 'failed';
    this.internal.abort(err);
    this.clearTimers();
    this.waiters.rejectAll(err);
    this.options.logger?.error({ err: err.message }, 'live sync failed');
    void this.teardown();
    this.emitStatus();
    this.options.onError?.(err);
  }

  private abortNow(): void {
    if (this.isTerminal()) return;
    this.state = 'aborted';
    const reason = new LiveSyncError('live sync was aborted');
    this.internal.abort(reason);
    this.clearTimers();
    this.waiters.rejectAll(reason);
    void this.teardown();
    this.emitStatus();
  }

  private clearTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** Closes connections and restores notify-keyspace-events; idempotent. */
  private teardown(): Promise<void> {
    this.tornDown ??= (async () => {
      this.clearTimers();
      this.unlinkSignal?.();
      this.sub?.close();
      if (this.notify) this.restoredNotify = await this.notify.restore();
      this.control?.disconnect();
      await this.copier.close?.().catch(() => undefined);
    })();
    return this.tornDown;
  }

  private emitStatus(): void {
    if (!this.options.onStatus) return;
    try {
      this.options.onStatus(this.status());
    } catch (err) {
      this.options.logger?.warn({ err: errorMessage(err) }, 'onStatus callback threw');
    }
  }

  private report(consistent: boolean): LiveSyncReport {
    return { ...this.status(), consistent, restoredNotifyConfig: this.restoredNotify };
  }
}

function remaining(deadline: number | undefined): number | undefined {
  return deadline === undefined ? undefined : Math.max(0, deadline - Date.now());
}
