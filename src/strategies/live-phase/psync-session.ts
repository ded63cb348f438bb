// The follower's psync feed: a PsyncReplica (the tool as a replica of the source) across one run.
// It resumes from the (replid, offset) kept in the control Redis, so a takeover worker continues
// with PSYNC <replid> <offset> rather than a new full sync; it saves that point as the replica
// applies the stream (fenced: a stale holder cannot write over the new one's).
//
// Continuing is only safe from an exact point: the stream holds INCR, RPUSH and the like, which
// must not be applied twice. A point saved when the replica stopped is exact; one saved as it ran
// (~1/s) may trail what the target applied before a crash. Such a point is used only when the
// source has not moved past it (then nothing beyond it can have been applied); otherwise a full
// sync runs again onto emptied databases, as Redis's own replica does after a crash. Once the apps
// may write to the target (the repoint began) nothing is emptied: a continue, with a warning. The replica's
// events go to the migration's audit trail. The drain under the write pause is exact: the source's
// master_repl_offset read under the pause, and the applied offset reaching it.

import type { NonEmptyTargetPolicy } from '../../engine/copy/types.js';
import type { DbMapping } from '../../engine/db-mapping.js';
import type { ServerIdentity } from '../../engine/identity/index.js';
import { type PsyncCheckpoint, type PsyncEvent, PsyncReplica } from '../../engine/psync/index.js';
import type { Endpoint } from '../../redis/endpoint.js';
import { backoffMs, RETRY_BACKOFF } from '../../util/backoff.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { sleep } from '../../util/sleep.js';
import type { FeedDrain, LiveCounters, LiveFeed, LiveFeedStart, PsyncFeedStatus } from './live-feed.js';
import type { PsyncResumePoint } from './types.js';

/** The replica may be started again this many times in a run before the follower gives up. */
const MAX_STARTS = 4;
/** Tries of one start while the source blinks. */
const START_TRIES = 5;
/** Lag (bytes of stream not applied yet) under which the feed counts as caught up. */
export const CAUGHT_UP_LAG_BYTES = 1024 * 1024;

export interface PsyncSessionOptions {
  endpoints: { source: Endpoint; target: Endpoint };
  mapping: DbMapping;
  /** The plan's policy for the first full sync on a target that holds data. */
  onNonEmptyTarget: NonEmptyTargetPolicy;
  /** Where the feed resumes from, in the control Redis. */
  resume: {
    load: () => Promise<PsyncResumePoint | undefined>;
    save: (point: PsyncResumePoint) => Promise<void>;
  };
  /** The replica failed while running: the loop should look at `failure`. */
  onFailure: () => void;
  /** The source's replication id and master_repl_offset, read now. */
  sourceReplication: () => Promise<{ replid: string; offset: number }>;
  /** Whether the apps may have begun writing to the target (the repoint started). */
  repointStarted: () => Promise<boolean>;
  /** A warning for the follower's status. */
  warn: (message: string) => void;
  /** A line for the migration's audit trail. */
  note: (message: string, data?: Record<string, unknown>) => void;
  caughtUpLagMs: number;
  /** The follower is letting go: a start is not tried again. */
  stopped: () => boolean;
  logger: Logger;
  spoolDir?: string | null;
}

export class PsyncSession implements LiveFeed {
  readonly kind = 'psync' as const;
  private replica: PsyncReplica | undefined;
  private failed: string | undefined;
  private startCount = 0;
  private point: PsyncResumePoint = { checkpoint: null, fullSyncStarted: false };
  private saving: Promise<void> = Promise.resolve();
  private closing: Promise<void> = Promise.resolve();
  private interrupted: ((err: Error) => void) | undefined;
  private fullSyncs = 0;
  private continues = 0;
  private replid: string | null = null;
  private rdb: PsyncFeedStatus['rdb'];
  private rdbProgress: PsyncFeedStatus['rdbProgress'];
  private keysAppliedBefore = -1;

  constructor(private readonly options: PsyncSessionOptions) {}

  get attached(): boolean {
    return this.replica !== undefined;
  }

  get failure(): string | undefined {
    return this.failed;
  }

  /** A replica that failed can start again from its checkpoint: never final by itself. */
  get final(): boolean {
    return false;
  }

  get starts(): number {
    return this.startCount;
  }

  assertMayStart(): void {
    if (this.startCount >= MAX_STARTS) {
      throw new Error(`the psync replica failed ${this.startCount} times in this run: ${this.failed ?? ''}`);
    }
  }

  async start(_how: LiveFeedStart): Promise<void> {
    this.assertMayStart();
    this.startCount++;
    for (let i = 1; ; i++) {
      this.point = await this.resumePoint();
      const replica = this.open();
      try {
        await replica.start();
        this.replica = replica;
        this.failed = undefined;
        return;
      } catch (err) {
        await replica.stop().catch(() => undefined);
        if (i >= START_TRIES || this.options.stopped()) throw err;
        this.options.logger.warn(
          { err: errorMessage(err), attempt: i },
          'could not start the psync replica; trying again',
        );
        await sleep(backoffMs(i, RETRY_BACKOFF));
      }
    }
  }

  /** The saved point, or none when continuing from it could apply part of the stream twice. */
  private async resumePoint(): Promise<PsyncResumePoint> {
    const saved = (await this.options.resume.load()) ?? { checkpoint: null, fullSyncStarted: false };
    const cp = saved.checkpoint;
    if (!cp && saved.fullSyncStarted) {
      this.options.note(
        'psync: a full sync had begun but no checkpoint was saved yet: it runs again onto emptied databases',
      );
    }
    if (!cp || saved.exact) return saved;
    const now = await this.options.sourceReplication();
    if (now.replid === cp.replid && now.offset === cp.offset) return saved;
    const behind = now.replid === cp.replid ? `${now.offset - cp.offset} bytes` : 'a new replication id';
    if (await this.options.repointStarted()) {
      this.options.warn(
        `the last holder of the psync replica stopped without saving where it was, and the source is ${behind} ` +
          `past its last checkpoint: the stream continues from there (the apps may write to the target, so it is ` +
          'not emptied for a full sync); writes in that stretch may have been applied twice: check the final verification',
      );
      return saved;
    }
    this.options.note(
      `psync: the last holder stopped without saving where it was (the source is ${behind} past its last ` +
        'checkpoint, and what it applied since cannot be known): a full sync runs again onto emptied databases ' +
        'rather than continuing, which could apply writes twice',
    );
    return { checkpoint: null, fullSyncStarted: true };
  }

  /** The replica applies as it receives: there is no hold to end. */
  startApplying(): void {}

  async drain(timeoutMs: number): Promise<FeedDrain> {
    const replica = this.replica;
    if (!replica) throw new Error('the psync replica is not running');
    const started = Date.now();
    // Read under the pause: no write acknowledged before it lies beyond this offset.
    const offset = await replica.sourceOffset();
    const interrupted = new Promise<never>((_, reject) => {
      this.interrupted = reject;
    });
    try {
      const reached = await Promise.race([replica.waitForOffset(offset, timeoutMs), interrupted]);
      if (!reached) {
        throw new Error(
          `the applied offset (${replica.checkpoint?.offset ?? 'none'}) did not reach the source's ` +
            `master_repl_offset ${offset} within ${timeoutMs} ms`,
        );
      }
    } finally {
      this.interrupted = undefined;
    }
    return { durationMs: Date.now() - started, keysApplied: 0, offset };
  }

  interrupt(reason: string): void {
    this.interrupted?.(new Error(reason));
  }

  counters(keysAppliedSoFar: number): LiveCounters | undefined {
    const replica = this.replica;
    if (!replica) return undefined;
    if (this.keysAppliedBefore < 0) this.keysAppliedBefore = keysAppliedSoFar;
    const lag = replica.lag();
    const phase = replica.phase;
    const streaming = phase === 'stream';
    const lagMs = lag.seconds === null ? null : Math.round(lag.seconds * 1000);
    const applied = replica.checkpoint?.offset ?? null;
    // A poll from before the source had a backlog (offset 0, the replica already past it) says
    // nothing about the lag; the replica being ahead of a later poll is normal (it polls ~1/s).
    const polled = lag.sourceOffset !== null && !(lag.sourceOffset === 0 && (applied ?? 0) > 0);
    const caughtUp =
      streaming &&
      polled &&
      lag.bytes !== null &&
      (lag.bytes <= CAUGHT_UP_LAG_BYTES || (lagMs !== null && lagMs <= this.options.caughtUpLagMs));
    const psync: PsyncFeedStatus = {
      phase,
      replid: replica.checkpoint?.replid ?? this.replid,
      appliedOffset: applied,
      sourceOffset: lag.sourceOffset,
      lagBytes: lag.bytes,
      lagSeconds: lag.seconds,
      fullSyncs: this.fullSyncs,
      continues: this.continues,
      ...(this.rdb ? { rdb: this.rdb } : {}),
      ...(this.rdbProgress && phase === 'rdb' ? { rdbProgress: this.rdbProgress } : {}),
    };
    return {
      status: {
        state: streaming ? 'following' : 'starting',
        applying: true,
        rescanPending: false,
        pendingKeys: 0,
        oldestPendingAgeMs: streaming ? lagMs : null,
        eventsReceived: 0,
        keysApplied: this.rdb?.keys ?? 0,
        reconnects: this.continues,
        rescans: 0,
        caughtUp,
        psync,
      },
      keysAppliedBefore: this.keysAppliedBefore,
    };
  }

  sourceIdentity(): ServerIdentity | undefined {
    return undefined;
  }

  /**
   * Stopping cuts the link to the source at once (nothing more reaches the target: the resume
   * lifts the pause right after this, and the source's later writes must stay there); closing the
   * target connection and saving the last checkpoint go on in the background (see settled()), off
   * the write pause.
   */
  async stop(
    _graceful: boolean,
    keysAppliedSoFar: number,
  ): Promise<{ consistent: boolean | undefined; last: LiveCounters | undefined } | undefined> {
    const replica = this.replica;
    if (!replica) return undefined;
    const last = this.counters(keysAppliedSoFar);
    this.closing = replica
      .stop()
      .catch(() => undefined)
      .then(() => this.saveExact(replica));
    this.replica = undefined;
    this.keysAppliedBefore = -1;
    return { consistent: replica.failure === null, last };
  }

  /** Resolves once a stopped replica closed and its last checkpoint was saved. */
  settled(): Promise<void> {
    return this.closing;
  }

  async abandon(): Promise<void> {
    this.interrupt('the follower let go');
    const replica = this.replica;
    this.replica = undefined;
    if (!replica) return;
    await replica.stop().catch(() => undefined);
    await this.saveExact(replica);
  }

  /** After a stop: the replica's last checkpoint is what the target holds (a fenced save is refused). */
  private async saveExact(replica: PsyncReplica): Promise<void> {
    await this.saving;
    const cp = replica.checkpoint ?? this.point.checkpoint;
    if (cp) await this.save({ ...this.point, checkpoint: { ...cp }, exact: true });
  }

  private open(): PsyncReplica {
    const { endpoints, mapping } = this.options;
    // A full sync already wrote to the target: what is there is a partial copy of ours, so a new
    // one empties the mapped databases first (unless the plan keeps the target's other keys).
    const policy: NonEmptyTargetPolicy =
      this.point.fullSyncStarted && this.options.onNonEmptyTarget === 'refuse'
        ? 'flush'
        : this.options.onNonEmptyTarget;
    const replica = new PsyncReplica({
      source: endpoints.source,
      target: endpoints.target,
      mapping,
      resumeFrom: this.point.checkpoint,
      onNonEmptyTarget: policy,
      logger: this.options.logger,
      ...(this.options.spoolDir ? { spoolDir: this.options.spoolDir } : {}),
      onEvent: (e) => this.onEvent(e),
      onCheckpoint: (cp) => this.saveCheckpoint(cp),
    });
    replica.onFailure((err) => {
      if (this.replica !== replica) return;
      this.failed = err.message;
      this.options.onFailure();
    });
    return replica;
  }

  private save(point: PsyncResumePoint): Promise<void> {
    this.point = point;
    this.saving = this.saving
      .then(() => this.options.resume.save(point))
      .catch((err) =>
        this.options.logger.warn({ err: errorMessage(err) }, 'could not save the psync checkpoint'),
      );
    return this.saving;
  }

  private saveCheckpoint(cp: PsyncCheckpoint): Promise<void> {
    return this.save({ ...this.point, checkpoint: { ...cp }, exact: false });
  }

  private onEvent(e: PsyncEvent): void {
    const { note } = this.options;
    switch (e.kind) {
      case 'full-sync-started':
        this.fullSyncs++;
        this.replid = e.replid;
        this.rdb = undefined;
        // The old checkpoint is void; the target is written from now on.
        void this.save({ checkpoint: null, fullSyncStarted: true });
        note(`psync: full sync started (replid ${e.replid}, offset ${e.offset}): ${e.reason}`, {
          replid: e.replid,
          offset: e.offset,
        });
        return;
      case 'rdb-progress':
        this.rdbProgress = { bytes: e.bytes, totalBytes: e.totalBytes, keys: e.keys };
        return;
      case 'rdb-loaded':
        this.rdb = { keys: e.keys, bytes: e.bytes, functions: e.functions, ms: e.ms };
        note(
          `psync: RDB loaded on the target: ${e.keys} keys, ${(e.bytes / 1024 / 1024).toFixed(1)} MiB, ` +
            `${e.functions} function libraries in ${(e.ms / 1000).toFixed(1)} s; applying the replication stream`,
          { ...this.rdb },
        );
        return;
      case 'continued':
        this.continues++;
        this.replid = e.replid;
        note(`psync: replication continued from offset ${e.offset} (PSYNC ${e.replid} ${e.offset + 1})`, {
          replid: e.replid,
          offset: e.offset,
        });
        return;
      case 'disconnected':
        note(`psync: the replication link to the source dropped (${e.error}); continuing where it was`);
        return;
      case 'resync-needed': {
        const raise =
          e.suggestedBacklogBytes !== null
            ? `; raise repl-backlog-size on the source to at least ${e.suggestedBacklogBytes} bytes` +
              (e.backlogBytes !== null ? ` (now ${e.backlogBytes})` : '')
            : '';
        note(`psync: the source could not continue the stream (${e.reason}): a new full sync runs${raise}`, {
          backlogBytes: e.backlogBytes,
          suggestedBacklogBytes: e.suggestedBacklogBytes,
        });
        return;
      }
    }
  }
}
