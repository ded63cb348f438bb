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
//   another batch until its copy is done, so two copies of one key never race.
// - Notifications are fire-and-forget: whatever is published while the subscriber is disconnected is
//   lost. Any reconnect (and any overflow of the bounded dirty set) therefore triggers a reconcile
//   pass: re-copy every selected key and delete target keys the source no longer has. The flusher is
//   held during the pass (see reconcile.ts) and catches up on what changed meanwhile right after.
// - FLUSHALL, FLUSHDB and SWAPDB publish no notification at all, and a source that is a replica
//   publishes none when it reloads after a full resync. A cheap detector compares INFO keyspace
//   counts with the delete notifications received in between and asks for a reconcile pass when keys
//   vanished silently. It needs a drop of more than 0.1% of the db (at least 16 keys) or a db that
//   went empty, so emptying a very small db can go unnoticed until the final verification. When
//   most of a db (more than half, at least 16 keys) vanished silently, the source was flushed
//   under the migration: live sync fails instead, so the target keeps its keys.
// - The source's identity (src/engine/identity) is checked before every batch (role), after any
//   reconnect (run id), on every keyspace check and before a reconcile pass writes or deletes: a
//   source that became a replica or restarted fails live sync for good (LiveSyncError.final). A
//   target that restarted or lost most of its keys gets a reconcile pass (also checked in drain()).
// - Subscribing comes first, the initial reconcile (if any) second: no change can fall in between.
//
// drain() is the cutover barrier; see its comment.

import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { connect } from '../../redis/connect.js';
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { backoffMs } from '../../util/backoff.js';
import { ExitCode, errorMessage, UserError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { sleepOrAbort } from '../../util/sleep.js';
import { withTimeout as boundWait } from '../../util/timeout.js';
import { type DbRemap, targetDbsOf } from '../db-mapping.js';
import {
  clientInfo,
  collapsed,
  type IdentityChange,
  IdentityGuard,
  identityChange,
  readIdentity,
  ServerChangedError,
  type ServerIdentity,
} from '../identity/index.js';
import {
  KEY_REMOVING_EVENTS,
  NON_CHANGING_EVENTS,
  parseNotification,
  subscriptionPatterns,
} from './channels.js';
import { type Copier, engineCopier } from './copier.js';
import { type DirtyBatch, DirtySet } from './dirty-set.js';
import { globMatcher } from './glob.js';
import {
  checkNotifyFlags,
  missingNotificationsMessage,
  type NotifyChannelKind,
  withNeededFlags,
} from './notify-config.js';
import { parseInfoKeyspace, reconcile } from './reconcile.js';

export type LiveSyncState =
  | 'idle'
  | 'starting'
  | 'following'
  | 'rescanning'
  | 'stopping'
  | 'stopped'
  | 'failed'
  | 'aborted';

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
}

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

export class LiveSyncError extends UserError {
  constructor(
    message: string,
    /** Starting live sync again cannot help (the source is no longer the one being migrated). */
    readonly final = false,
  ) {
    super(message, ExitCode.problem);
    this.name = 'LiveSyncError';
  }
}

/** What a source change leaves behind, said in every such failure. */
const NOTHING_MORE_APPLIED = 'nothing more was applied to the target; the target keeps what it had';

interface Waiter {
  cond: () => boolean;
  resolve: () => void;
  reject: (err: Error) => void;
}

const CANARY_PREFIX = 'migration-buddy:canary:';

export class LiveSync {
  private readonly opts: Required<
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
  private readonly where: string;
  private readonly copier: Copier;
  private readonly dirty: DirtySet;
  private readonly matches: (key: Buffer) => boolean;
  private readonly dbFilter: ((db: number) => boolean) | null;
  private readonly internal = new AbortController();
  private readonly waiters = new Set<Waiter>();

  private state: LiveSyncState = 'idle';
  private kind: NotifyChannelKind = 'keyevent';
  private sub: Redis | undefined;
  private control: Redis | undefined;
  private patterns: string[] = [];
  private applying: boolean;
  private subscribed = false;
  private closingSub = false;
  private seq = 0;
  private readonly inflight = new Set<DirtyBatch>();
  /** Keys (latin1) of the batches in flight, per db. */
  private readonly busyKeys = new Map<number, Set<string>>();
  private pumping = false;
  private pumpScheduled = false;
  private rescanWanted = 0;
  private rescanDone = 0;
  private overflowGen = 0;
  private restoreNotify: string | null = null;
  private restoredNotify: string | null = null;
  private failure: LiveSyncError | null = null;
  private timers: NodeJS.Timeout[] = [];
  private checkingKeyspace = false;
  private lastKeyspace: { keys: Map<number, number>; removed: Map<number, number> } | null = null;
  private readonly removedByDb = new Map<number, number>();
  private canaryListener: ((event: string, key: Buffer) => void) | null = null;
  private unlinkSignal: (() => void) | null = null;
  private sourceGuard: IdentityGuard | undefined;
  private reconnectedSinceCheck = false;
  /** The target as last seen applying: a restart or a collapse of its keys asks for a reconcile pass. */
  private targetSeen: ServerIdentity | undefined;

  private readonly counters = {
    eventsReceived: 0,
    keysApplied: 0,
    keysDeleted: 0,
    keysFailed: 0,
    reconnects: 0,
    rescans: 0,
    extrasDeleted: 0,
    dirtyOverflows: 0,
    silentDropsDetected: 0,
  };
  private lastEventAt: number | null = null;
  private lastRescanReason: string | null = null;
  private lastError: string | null = null;

  constructor(
    private readonly source: Endpoint,
    private readonly target: Endpoint,
    private readonly options: LiveSyncOptions,
  ) {
    this.opts = {
      batchSize: options.batchSize ?? 512,
      concurrency: Math.max(1, options.concurrency ?? 3),
      maxDirtyKeys: options.maxDirtyKeys ?? 250_000,
      maxReconnects: options.maxReconnects ?? 20,
      maxApplyFailures: options.maxApplyFailures ?? 8,
      keyspaceCheckIntervalMs: options.keyspaceCheckIntervalMs ?? 5000,
      statusIntervalMs: options.statusIntervalMs ?? 1000,
    };
    if (options.dbs !== 'all' && options.dbs.length === 0) throw new RangeError('dbs must not be empty');
    if (source.cluster) {
      // Notifications are node-local in a cluster: following one would need a subscriber per master
      // and topology tracking, which is not built.
      throw new UserError(
        `live sync follows standalone sources only; ${describeEndpoint(source)} is a cluster`,
      );
    }
    this.where = describeEndpoint(source);
    this.dirty = new DirtySet(this.opts.maxDirtyKeys);
    this.matches = globMatcher(options.match ?? '*');
    const dbs = options.dbs === 'all' ? null : new Set(options.dbs);
    this.dbFilter = dbs ? (db) => dbs.has(db) : null;
    this.applying = !options.holdApply;
    this.copier =
      options.copier ??
      engineCopier(source, target, {
        ...(options.mode ? { mode: options.mode } : {}),
        ...(options.bigKeyThresholdBytes ? { bigKeyThresholdBytes: options.bigKeyThresholdBytes } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.remap ? { remap: options.remap } : {}),
        ...(options.dropFieldTtls ? { dropFieldTtls: true } : {}),
      });
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
      // connect() resolved on the first 'ready': any later one is a reconnect, maybe to a restarted server.
      this.control.on('ready', () => {
        this.reconnectedSinceCheck = true;
      });
      await this.captureIdentities();
      const verifyByCanary = await this.ensureNotifications();
      await this.openSubscriber();
      if (verifyByCanary) await this.canaryCheck();
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
      { source: this.where, patterns: this.patterns, applying: this.applying },
      'live sync following the source',
    );
    if (this.options.reconcileOnStart) this.requestRescan('reconcile requested at start');
    this.emitStatus();
    this.kick();
  }

  /** The source's identity this live sync checks against (to be kept by whoever resumes it). */
  sourceIdentity(): ServerIdentity | undefined {
    return this.sourceGuard?.baseline;
  }

  /** The baseline (given, or read now) is checked at once: a follower may start after the change. */
  private async captureIdentities(): Promise<void> {
    const dbs = this.options.dbs;
    const info = clientInfo(this.control!);
    const now = await readIdentity(info, dbs);
    this.sourceGuard = new IdentityGuard({
      side: 'source',
      where: this.where,
      baseline: this.options.sourceIdentity ?? now,
      dbs,
    });
    const change = identityChange(this.sourceGuard.baseline, now);
    if (change) throw this.final(change, 'before live sync started');
    const target = await connect(this.target, { role: 'live-sync-control' });
    try {
      this.targetSeen = await readIdentity(clientInfo(target), targetDbsOf(this.options, dbs));
    } finally {
      target.disconnect();
    }
  }

  /** The failure for a source that changed: starting live sync again cannot help. */
  private final(change: IdentityChange, when: string): LiveSyncError {
    return new LiveSyncError(this.sourceGuard!.error(change, when, NOTHING_MORE_APPLIED).message, true);
  }

  /**
   * Throws a final LiveSyncError when the source is no longer the one being migrated: role and run
   * id (key counts are judged against notifications, in checkKeyspace and checkBeforeDeletes).
   */
  private async checkSource(when: string, roleOnly = false): Promise<ServerIdentity | undefined> {
    const guard = this.sourceGuard;
    if (!guard || !this.control) return undefined;
    try {
      if (roleOnly) {
        await guard.checkRole(clientInfo(this.control), when, NOTHING_MORE_APPLIED);
        return undefined;
      }
      return await guard.check(clientInfo(this.control), when, NOTHING_MORE_APPLIED, false);
    } catch (err) {
      if (err instanceof ServerChangedError) throw new LiveSyncError(err.message, true);
      throw err;
    }
  }

  /** Starts applying the changes collected since start() (after the bulk copy finished). */
  startApplying(): void {
    if (this.applying) return;
    this.applying = true;
    this.kick();
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
    const appliedBefore = this.counters.keysApplied;
    const deadline = options.timeoutMs === undefined ? undefined : started + options.timeoutMs;
    // A target that lost keys since the last keyspace check gets its reconcile pass inside the barrier.
    await this.checkTarget().catch((err: unknown) => {
      this.options.logger?.warn({ err: errorMessage(err) }, 'could not check the target before draining');
    });
    await withTimeout(this.sub!.ping(), remaining(deadline), 'the drain barrier (PING on the subscriber)');
    const barrierSeq = this.seq;
    const rescanGen = this.rescanWanted;
    this.kick();
    await this.waitUntil(
      () =>
        this.minPendingSeq() > barrierSeq &&
        this.rescanDone >= rescanGen &&
        this.rescanDone >= this.overflowGen,
      remaining(deadline),
      'draining pending changes',
    );
    return { durationMs: Date.now() - started, keysApplied: this.counters.keysApplied - appliedBefore };
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
      return this.report(this.state === 'stopped' && this.rescanDone >= this.rescanWanted);
    }
    if (this.state === 'stopping') throw new Error('LiveSync.stop() is already running');
    this.state = 'stopping';
    this.clearTimers();
    if (this.sub && this.subscribed && this.sub.status === 'ready') {
      await withTimeout(this.sub.punsubscribe(), 5000, 'unsubscribing').catch(() => undefined);
    }
    if (this.applying) {
      this.kick();
      // A reconcile pass can only run while subscribed; if a gap is open there is no point waiting.
      await this.waitUntil(
        () =>
          !this.pumping &&
          this.inflight.size === 0 &&
          this.dirty.size === 0 &&
          (this.rescanDone >= this.rescanWanted || !this.subscribed),
        undefined,
        'applying the last changes',
      ).catch(() => undefined);
    }
    const consistent =
      this.applying && this.failure === null && this.dirty.size === 0 && this.rescanDone >= this.rescanWanted;
    if (this.state === 'stopping') this.state = 'stopped';
    await this.teardown();
    this.emitStatus();
    this.options.logger?.info({ source: this.where, consistent }, 'live sync stopped');
    return this.report(consistent);
  }

  status(): LiveSyncStatus {
    const now = Date.now();
    let pendingSince = this.dirty.oldestSince();
    let inflightKeys = 0;
    for (const b of this.inflight) {
      pendingSince = minNullable(pendingSince, b.oldestSince);
      inflightKeys += b.keys.length;
    }
    return {
      state: this.state,
      applying: this.applying,
      ...this.counters,
      pendingKeys: this.dirty.size + inflightKeys,
      oldestPendingAgeMs: pendingSince === null ? null : now - pendingSince,
      lastEventAgeMs: this.lastEventAt === null ? null : now - this.lastEventAt,
      lastRescanReason: this.lastRescanReason,
      rescanPending: this.rescanWanted > this.rescanDone,
      channel: this.kind,
      lastError: this.failure ? this.failure.message : this.lastError,
    };
  }

  // --- notifications setting ---------------------------------------------------------------

  /** Returns true when the setting could not be read and a canary must check it instead. */
  private async ensureNotifications(): Promise<boolean> {
    if (this.options.trustNotifyConfig) return false;
    const control = this.control!;
    let value: string;
    try {
      const reply = (await control.config('GET', 'notify-keyspace-events')) as string[];
      value = reply[1] ?? '';
    } catch (err) {
      this.options.logger?.warn(
        { source: this.where, err: errorMessage(err) },
        'cannot read notify-keyspace-events (CONFIG GET refused); checking with a canary write instead',
      );
      return true;
    }
    const check = checkNotifyFlags(value);
    if (check.ok) {
      this.kind = check.kind!;
      return false;
    }
    if (!this.options.enableNotifications)
      throw new LiveSyncError(missingNotificationsMessage(this.where, check));
    const wanted = withNeededFlags(value);
    try {
      await control.config('SET', 'notify-keyspace-events', wanted);
    } catch (err) {
      throw new LiveSyncError(
        `could not turn keyspace notifications on with CONFIG SET (${errorMessage(err)}). ` +
          missingNotificationsMessage(this.where, check),
      );
    }
    this.restoreNotify = value;
    const reply = (await control.config('GET', 'notify-keyspace-events')) as string[];
    const after = checkNotifyFlags(reply[1] ?? '');
    if (!after.ok) throw new LiveSyncError(missingNotificationsMessage(this.where, after));
    this.kind = after.kind!;
    this.options.logger?.warn(
      { source: this.where, before: value, now: reply[1] },
      'turned keyspace notifications on with CONFIG SET; the old value is restored when live sync stops',
    );
    return false;
  }

  /**
   * Without CONFIG GET, the only way to know notifications are on is to see them: write one short-
   * lived key of each type and wait for their events. Evictions (class e) cannot be provoked, so
   * they stay unchecked. The canary keys live under `migration-buddy:canary:` and are deleted at once.
   */
  private async canaryCheck(): Promise<void> {
    const control = this.control!;
    const db = this.options.dbs === 'all' ? 0 : Math.min(...this.options.dbs);
    const base = `${CANARY_PREFIX}${randomBytes(8).toString('hex')}:`;
    const expected = new Map<string, string>([
      ['set', '$'],
      ['rpush', 'l'],
      ['sadd', 's'],
      ['hset', 'h'],
      ['zadd', 'z'],
      ['xadd', 't'],
      ['del', 'g'],
      ['expired', 'x'],
    ]);
    const seen = new Set<string>();
    let allSeen: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      allSeen = resolve;
    });
    this.canaryListener = (event, key) => {
      if (!key.toString('latin1').startsWith(base)) return;
      seen.add(event);
      if ([...expected.keys()].every((e) => seen.has(e))) allSeen();
    };
    const keys = ['s', 'l', 'set', 'h', 'z', 'x', 'exp'].map((k) => base + k);
    try {
      await control.select(db);
      await control
        .multi()
        .set(`${base}s`, '1')
        .rpush(`${base}l`, '1')
        .sadd(`${base}set`, '1')
        .hset(`${base}h`, 'f', '1')
        .zadd(`${base}z`, 1, 'm')
        .xadd(`${base}x`, '*', 'f', '1')
        .set(`${base}exp`, '1', 'PX', 1)
        .exec();
      await control.del(`${base}s`, `${base}l`, `${base}set`, `${base}h`, `${base}z`, `${base}x`);
      // Expiry fires when the key is reclaimed: touching it after its deadline reclaims it.
      await sleepOrAbort(5);
      await control.exists(`${base}exp`);
      await withTimeout(done, 2000, 'canary').catch(() => undefined);
    } catch (err) {
      throw new LiveSyncError(
        `cannot check notify-keyspace-events on ${this.where}: CONFIG GET is refused and the canary write ` +
          `failed (${errorMessage(err)}). Make sure notify-keyspace-events includes KEA (provider ` +
          `parameter group) and start live sync with trustNotifyConfig.`,
      );
    } finally {
      this.canaryListener = null;
      await control.del(...keys).catch(() => undefined);
    }
    const missing = [...expected].filter(([event]) => !seen.has(event)).map(([, flag]) => flag);
    if (missing.length > 0) {
      throw new LiveSyncError(
        missingNotificationsMessage(this.where, {
          ok: false,
          kind: null,
          missing: seen.size === 0 ? ['E', ...missing] : missing,
          current: '(unreadable: CONFIG GET is refused; checked by a canary write)',
        }),
      );
    }
    this.options.logger?.warn(
      { source: this.where },
      'notify-keyspace-events checked by canary (CONFIG GET refused); eviction events (e) could not be checked',
    );
  }

  // --- subscriber ---------------------------------------------------------------------------

  private async openSubscriber(): Promise<void> {
    // Reconnects are ours to handle (resubscribe, then reconcile), not ioredis' autoResubscribe.
    const sub = await connect(this.source, {
      role: 'live-sync-subscriber',
      maxReconnects: this.opts.maxReconnects,
      maxRetriesPerRequest: null,
      extra: { autoResubscribe: false },
    });
    this.sub = sub;
    sub.on('pmessageBuffer', (_pattern: unknown, channel: Buffer, message: Buffer) =>
      this.onNotification(channel, message),
    );
    sub.on('close', () => this.onSubscriberClosed());
    // connect() resolved after the first 'ready', so every 'ready' seen here is a reconnect.
    sub.on('ready', () => void this.onSubscriberReconnected());
    sub.on('end', () => this.onSubscriberGone());
    sub.on('error', (err: Error) => {
      this.options.logger?.debug({ err: errorMessage(err) }, 'live sync subscriber error');
    });
    this.patterns = subscriptionPatterns(this.kind, this.options.dbs);
    await this.subscribe();
  }

  private async subscribe(): Promise<void> {
    try {
      await this.sub!.psubscribe(...this.patterns);
    } catch (err) {
      const msg = errorMessage(err);
      if (/NOPERM/i.test(msg)) {
        throw new LiveSyncError(
          `the source user on ${this.where} may not subscribe to ${this.patterns.join(', ')}: grant the ` +
            `channel permission (ACL: &__key*__:* or allchannels) and try again`,
        );
      }
      throw new LiveSyncError(`cannot subscribe to keyspace notifications on ${this.where}: ${msg}`);
    }
    this.subscribed = true;
  }

  private onNotification(channel: Buffer, message: Buffer): void {
    this.counters.eventsReceived++;
    this.lastEventAt = Date.now();
    const n = parseNotification(this.kind, channel, message);
    if (!n) return;
    if (this.canaryListener) this.canaryListener(n.event, n.key);
    if (KEY_REMOVING_EVENTS.has(n.event)) this.removedByDb.set(n.db, (this.removedByDb.get(n.db) ?? 0) + 1);
    if (NON_CHANGING_EVENTS.has(n.event)) return;
    if (this.dbFilter && !this.dbFilter(n.db)) return;
    if (!this.matches(n.key)) return;
    const added = this.dirty.add(n.db, n.key, ++this.seq, this.lastEventAt);
    if (added === 'overflow') {
      // Dropping what we know is safe only because a full reconcile pass follows.
      this.counters.dirtyOverflows++;
      this.dirty.clear();
      this.requestRescan(`more than ${this.opts.maxDirtyKeys} keys changed before they could be applied`);
      this.overflowGen = this.rescanWanted;
      this.dirty.add(n.db, n.key, this.seq, this.lastEventAt);
    }
    if (added !== 'pending') this.kick();
  }

  private onSubscriberClosed(): void {
    if (this.closingSub || !this.subscribed) return;
    // From now on notifications are lost: the reconcile pass runs once we are subscribed again.
    this.subscribed = false;
    // Deletes during the gap go uncounted: the key-count baseline starts over after it.
    this.lastKeyspace = null;
    this.requestRescan('the notification subscriber was disconnected; changes meanwhile were missed');
    this.options.logger?.warn({ source: this.where }, 'live sync subscriber disconnected; reconnecting');
  }

  private async onSubscriberReconnected(): Promise<void> {
    if (this.closingSub || this.isTerminal()) return;
    this.counters.reconnects++;
    try {
      await this.subscribe();
      this.options.logger?.warn(
        { source: this.where, reconnects: this.counters.reconnects },
        'live sync subscriber reconnected; running a reconcile pass for the gap',
      );
      this.kick();
      this.notifyWaiters();
    } catch (err) {
      // A drop during PSUBSCRIBE brings another 'ready'; a refusal will not get better.
      if (err instanceof LiveSyncError) this.fail(err);
    }
  }

  private onSubscriberGone(): void {
    if (this.closingSub || this.isTerminal()) return;
    this.fail(
      new LiveSyncError(
        `lost the keyspace-notification subscription to ${this.where} after ${this.opts.maxReconnects} ` +
          `reconnect attempts; changes since then were not followed. Check that the source is reachable, ` +
          `then start live sync again with a reconcile pass (reconcileOnStart) before any cutover.`,
      ),
    );
  }

  // --- applying -----------------------------------------------------------------------------

  private requestRescan(reason: string): void {
    this.rescanWanted++;
    this.lastRescanReason = reason;
    this.kick();
  }

  private kick(): void {
    if (this.pumping || this.pumpScheduled) return;
    this.pumpScheduled = true;
    // setImmediate lets a burst of notifications from one socket read gather into one batch.
    setImmediate(() => {
      this.pumpScheduled = false;
      void this.pump();
    });
  }

  private canWork(): boolean {
    return (
      this.applying &&
      this.failure === null &&
      (this.state === 'following' || this.state === 'rescanning' || this.state === 'stopping')
    );
  }

  /**
   * The only place that writes to the target: up to `concurrency` batches at once (never two with
   * the same key), or one reconcile pass alone.
   */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    const running = new Set<Promise<void>>();
    try {
      while (this.canWork()) {
        if (this.rescanWanted > this.rescanDone && this.subscribed) {
          if (running.size > 0) await Promise.race(running);
          else await this.runRescan();
          continue;
        }
        while (running.size < this.opts.concurrency) {
          const batch = this.dirty.take(this.opts.batchSize, this.isBusy);
          if (!batch) break;
          const p: Promise<void> = this.applyBatch(batch).finally(() => running.delete(p));
          running.add(p);
        }
        if (running.size === 0) break;
        await Promise.race(running);
      }
    } catch (err) {
      if (!this.isTerminal()) {
        this.fail(err instanceof LiveSyncError ? err : new LiveSyncError(errorMessage(err)));
      }
    } finally {
      // Nothing may still be writing once the pump says it is idle.
      await Promise.allSettled(running);
      this.pumping = false;
      this.notifyWaiters();
      // Work that arrived while the last batches finished.
      if (this.canWork() && this.dirty.size > 0) this.kick();
    }
  }

  private readonly isBusy = (db: number, key: string): boolean => this.busyKeys.get(db)?.has(key) ?? false;

  private consecutiveFailures = 0;

  private async applyBatch(batch: DirtyBatch): Promise<void> {
    this.inflight.add(batch);
    let busy = this.busyKeys.get(batch.db);
    if (!busy) {
      busy = new Set();
      this.busyKeys.set(batch.db, busy);
    }
    for (const [k] of batch.entries) busy.add(k);
    try {
      // A batch may delete keys the source lacks: never for a source that is now someone's replica
      // (role, one INFO), nor one that restarted (run id too, after any reconnect).
      const full = this.reconnectedSinceCheck;
      await this.checkSource('during live sync', !full);
      if (full) this.reconnectedSinceCheck = false;
      const result = await this.copier.copyKeySet(batch.db, batch.keys);
      this.counters.keysApplied += batch.keys.length - result.keysFailed;
      this.counters.keysFailed += result.keysFailed;
      this.counters.keysDeleted += result.keysDeleted ?? 0;
      if (result.refusal) throw new LiveSyncError(`live sync stopped: ${result.refusal}`, true);
      this.consecutiveFailures = 0;
    } catch (err) {
      this.dirty.putBack(batch);
      if (err instanceof LiveSyncError && err.final) throw err;
      // The keys stay busy during the back-off, so no other lane retries them at once.
      await this.afterFailure(err, 'applying changes to the target', describeEndpoint(this.target));
    } finally {
      for (const [k] of batch.entries) busy.delete(k);
      if (busy.size === 0) this.busyKeys.delete(batch.db);
      this.inflight.delete(batch);
      this.notifyWaiters();
    }
  }

  private async runRescan(): Promise<void> {
    const gen = this.rescanWanted;
    if (this.state === 'following') this.state = 'rescanning';
    this.emitStatus();
    this.options.logger?.info({ reason: this.lastRescanReason }, 'live sync reconcile pass started');
    let source: Redis | undefined;
    let target: Redis | undefined;
    try {
      source = await connect(this.source, { role: 'live-sync-reconcile' });
      target = await connect(this.target, { role: 'live-sync-reconcile' });
      // The pass overwrites (RESTORE REPLACE) and deletes: only from the source being migrated.
      await this.checkSource('during live sync, before a reconcile pass');
      const result = await reconcile(this.copier, source, target, {
        dbs: this.options.dbs,
        ...(this.options.remap ? { remap: this.options.remap } : {}),
        ...(this.options.match ? { match: this.options.match } : {}),
        batchSize: this.opts.batchSize,
        signal: this.internal.signal,
        beforeDeletes: () => this.checkBeforeDeletes(),
      });
      this.counters.extrasDeleted += result.extrasDeleted;
      this.counters.rescans++;
      this.rescanDone = gen;
      this.consecutiveFailures = 0;
      this.options.logger?.info(result, 'live sync reconcile pass done');
    } catch (err) {
      if (this.internal.signal.aborted) throw err;
      if (err instanceof LiveSyncError && err.final) throw err;
      await this.afterFailure(err, 'the reconcile pass', 'source and target');
    } finally {
      source?.disconnect();
      target?.disconnect();
      if (this.state === 'rescanning') this.state = 'following';
      this.notifyWaiters();
      this.emitStatus();
    }
  }

  /**
   * Before each page of a reconcile pass's deletions: the source's role and run id, and its key
   * count against the last keyspace check (a flush since would make every target key an "extra").
   */
  private async checkBeforeDeletes(): Promise<void> {
    const now = await this.checkSource('during live sync, before deleting target keys the source lacks');
    const seen = this.lastKeyspace
      ? totalOf(this.lastKeyspace.keys, this.dbFilter)
      : this.sourceGuard?.baseline.keys;
    const keys = now?.keys;
    if (seen !== undefined && keys !== undefined && collapsed(seen, keys)) {
      throw this.final(
        { kind: 'dataset', detail: `lost most of its data: ${keys} keys left of ${seen} (flushed?)` },
        'during live sync, before deleting target keys the source lacks',
      );
    }
  }

  /** Backs off after a failed batch or pass; gives up after maxApplyFailures in a row. */
  private async afterFailure(err: unknown, what: string, where: string): Promise<void> {
    this.consecutiveFailures++;
    this.lastError = `${what}: ${errorMessage(err)}`;
    this.options.logger?.warn(
      { err: errorMessage(err), attempt: this.consecutiveFailures },
      `${what} failed`,
    );
    if (this.consecutiveFailures >= this.opts.maxApplyFailures) {
      throw new LiveSyncError(
        `live sync gave up after ${this.consecutiveFailures} failures in a row of ${what} ` +
          `(last: ${errorMessage(err)}). Check that ${where} are reachable and writable, then start live ` +
          `sync again with a reconcile pass (reconcileOnStart) before any cutover.`,
      );
    }
    await sleepOrAbort(
      backoffMs(this.consecutiveFailures, { baseMs: 100, maxMs: 5000 }),
      this.internal.signal,
    );
  }

  private minPendingSeq(): number {
    let min = this.dirty.minSeq();
    for (const b of this.inflight) if (b.minSeq < min) min = b.minSeq;
    return min;
  }

  // --- silent drops (FLUSHDB / FLUSHALL / SWAPDB / replica resync) ----------------------------

  private async checkKeyspace(): Promise<void> {
    if (this.checkingKeyspace || this.state !== 'following' || !this.subscribed || !this.applying) return;
    this.checkingKeyspace = true;
    try {
      await this.checkSource('during live sync');
      // A target that cannot be read now is no reason to skip the source's counts.
      await this.checkTarget().catch((err: unknown) => {
        this.options.logger?.debug({ err: errorMessage(err) }, 'target check skipped');
      });
      const keys = parseInfoKeyspace(await this.control!.info('keyspace'));
      // After this reply, every notification for a change made before INFO has been counted.
      await withTimeout(this.sub!.ping(), 5000, 'PING');
      const removed = new Map(this.removedByDb);
      const prev = this.lastKeyspace;
      this.lastKeyspace = { keys, removed };
      if (!prev) return;
      const dbs = new Set([...prev.keys.keys(), ...keys.keys()]);
      for (const db of dbs) {
        if (this.dbFilter && !this.dbFilter(db)) continue;
        const before = prev.keys.get(db) ?? 0;
        const now = keys.get(db) ?? 0;
        const notified = (removed.get(db) ?? 0) - (prev.removed.get(db) ?? 0);
        const drop = before - now;
        const slack = Math.max(16, Math.ceil(before * 0.001));
        if (drop > notified + slack || (now === 0 && before > 0 && notified < before)) {
          this.counters.silentDropsDetected++;
          const silent = drop - notified;
          if (collapsed(before, before - silent)) {
            // Most of the db vanished without a notification: a flush (or a resync) of the source
            // under us. Following it would delete the target's keys too.
            throw this.final(
              {
                kind: 'dataset',
                detail: `lost ${silent} of the ${before} keys of db ${db} without delete notifications (FLUSHDB or FLUSHALL?)`,
              },
              'during live sync',
            );
          }
          this.requestRescan(
            `db ${db} lost ${drop} keys with only ${notified} delete notifications ` +
              `(FLUSHDB, FLUSHALL and SWAPDB publish none)`,
          );
          break;
        }
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
    const seen = this.targetSeen;
    if (!seen) return;
    const conn = await connect(this.target, { role: 'live-sync-control', maxReconnects: 0 });
    let now: ServerIdentity;
    try {
      now = await readIdentity(clientInfo(conn), targetDbsOf(this.options, this.options.dbs));
    } finally {
      conn.disconnect();
    }
    this.targetSeen = now;
    const change = identityChange(seen, now);
    if (change && change.kind !== 'role') {
      this.requestRescan(
        `the target ${describeEndpoint(this.target)} ${change.detail}: copying every key again`,
      );
    }
  }

  // --- lifecycle helpers --------------------------------------------------------------------

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
    if (cond()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        cond,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.waiters.delete(waiter);
          const s = this.status();
          reject(
            new LiveSyncError(
              `live sync timed out ${what} after ${timeoutMs} ms (${s.pendingKeys} keys pending, ` +
                `state ${s.state}${s.lastError ? `, last error: ${s.lastError}` : ''})`,
            ),
          );
        }, timeoutMs);
      }
      this.waiters.add(waiter);
    });
  }

  private notifyWaiters(): void {
    for (const w of this.waiters) {
      if (w.cond()) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }

  private fail(err: LiveSyncError): void {
    if (this.failure || this.isTerminal()) return;
    this.failure = err;
    this.state = 'failed';
    this.internal.abort(err);
    this.clearTimers();
    for (const w of this.waiters) w.reject(err);
    this.waiters.clear();
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
    for (const w of this.waiters) w.reject(reason);
    this.waiters.clear();
    void this.teardown();
    this.emitStatus();
  }

  private clearTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  private tornDown: Promise<void> | null = null;

  /** Closes connections and restores notify-keyspace-events; idempotent. */
  private teardown(): Promise<void> {
    this.tornDown ??= (async () => {
      this.clearTimers();
      this.unlinkSignal?.();
      this.closingSub = true;
      this.sub?.disconnect();
      if (this.restoreNotify !== null && this.control) {
        try {
          await withTimeout(
            this.control.config('SET', 'notify-keyspace-events', this.restoreNotify),
            5000,
            'CONFIG SET',
          );
          this.restoredNotify = this.restoreNotify;
        } catch (err) {
          this.options.logger?.warn(
            { err: errorMessage(err), value: this.restoreNotify },
            'could not restore notify-keyspace-events; set it back by hand',
          );
        }
      }
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

function totalOf(keys: Map<number, number>, filter: ((db: number) => boolean) | null): number {
  let n = 0;
  for (const [db, k] of keys) if (!filter || filter(db)) n += k;
  return n;
}

function minNullable(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

function remaining(deadline: number | undefined): number | undefined {
  return deadline === undefined ? undefined : Math.max(0, deadline - Date.now());
}

function withTimeout<T>(promise: Promise<T>, ms: number | undefined, what: string): Promise<T> {
  return boundWait(promise, ms, what, (m) => new LiveSyncError(m));
}
