// The follower's live sync over one run: a LiveSync started with the plan's settings (a source that
// blinks is tried again), its failure kept for the goal loop to act on, stopped, and started again
// after a failure (a bounded number of times), with the counters carried over so the status counts
// the whole run. When to start, hold or restart it is the follower's call.

import { targetDbOf } from '../../engine/db-mapping.js';
import type { ServerIdentity } from '../../engine/identity/index.js';
import {
  LiveSync,
  LiveSyncAcross,
  type LiveSyncAcrossOptions,
  LiveSyncError,
  type LiveSyncOptions,
} from '../../engine/live-sync/index.js';
import type { Endpoint } from '../../redis/endpoint.js';
import { backoffMs, RETRY_BACKOFF } from '../../util/backoff.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { sleep } from '../../util/sleep.js';
import type { FeedDrain, LiveCounters, LiveFeed, LiveFeedStart } from './live-feed.js';
import type { FollowerSpec } from './spec.js';

/** Live sync may be started again this many times in a run before the follower gives up. */
const MAX_LIVE_SYNC_STARTS = 4;
/** Tries of one start while the source blinks. */
const START_TRIES = 5;

/** What the session drives: one server's LiveSync, or LiveSyncAcross with a cluster on either side. */
type Followed = Pick<LiveSync, 'start' | 'startApplying' | 'drain' | 'stop' | 'status' | 'sourceIdentity'> & {
  sourceIdentities?(): Record<string, ServerIdentity>;
};

export interface LiveSyncSessionOptions {
  endpoints: { source: Endpoint; target: Endpoint };
  /** A cluster on either side: every source primary is followed (LiveSyncAcross). */
  across: boolean;
  live: NonNullable<FollowerSpec['live']>;
  statusIntervalMs: number;
  /** Live sync failed while running: the loop should look at `failure`. */
  onFailure: () => void;
  /** The follower is letting go (handing over, fenced): a start is not tried again. */
  stopped: () => boolean;
  logger: Logger;
}

export type LiveSyncStart = LiveFeedStart;

export class LiveSyncSession implements LiveFeed {
  readonly kind = 'notifications' as const;
  private ls: Followed | undefined;
  private abortController: AbortController | undefined;
  private failed: string | undefined;
  private failedFinal = false;
  private startCount = 0;
  /** What earlier live syncs of this run applied (-1: not yet read from the status). */
  private keysAppliedBefore = -1;

  constructor(private readonly options: LiveSyncSessionOptions) {}

  /** A LiveSync is attached (running, or failed and not stopped yet). */
  get attached(): boolean {
    return this.ls !== undefined;
  }

  /** Why the attached live sync failed (undefined while it runs). */
  get failure(): string | undefined {
    return this.failed;
  }

  /** It failed in a way a restart cannot fix (the source changed): the follower must fail. */
  get final(): boolean {
    return this.failedFinal;
  }

  get starts(): number {
    return this.startCount;
  }

  /** Throws once live sync was started as often as a run allows (it kept failing). */
  assertMayStart(): void {
    if (this.startCount >= MAX_LIVE_SYNC_STARTS) {
      throw new LiveSyncError(`live sync failed ${this.startCount} times in this run: ${this.failed ?? ''}`);
    }
  }

  /** Starts a LiveSync (after stop(), if one failed). */
  async start(how: LiveSyncStart): Promise<void> {
    this.assertMayStart();
    this.startCount++;
    for (let i = 1; ; i++) {
      const { ls, abort } = this.open(how);
      try {
        await ls.start();
        this.ls = ls;
        this.abortController = abort;
        this.failed = undefined;
        return;
      } catch (err) {
        if (err instanceof LiveSyncError || i >= START_TRIES || this.options.stopped()) throw err;
        this.options.logger.warn(
          { err: errorMessage(err), attempt: i },
          'could not start live sync; trying again',
        );
        await sleep(backoffMs(i, RETRY_BACKOFF));
      }
    }
  }

  /** The source's identity as the running live sync read it. */
  sourceIdentity(): ServerIdentity | undefined {
    return this.ls?.sourceIdentity();
  }

  /** Across topologies: every source node's identity, as the running live sync checks them. */
  sourceIdentities(): Record<string, ServerIdentity> | undefined {
    return this.ls?.sourceIdentities?.();
  }

  startApplying(): void {
    this.ls?.startApplying();
  }

  /** Applies every change acknowledged before now (the barrier under the write pause). */
  drain(timeoutMs: number): Promise<FeedDrain> {
    if (!this.ls) return Promise.reject(new Error('live sync is not running'));
    return this.ls.drain({ timeoutMs });
  }

  /** Interrupts what live sync is doing (a drain, a start); it stops on stop() or abandon(). */
  interrupt(reason: string): void {
    this.abortController?.abort(new Error(reason));
  }

  /** Live sync's counters for the status; `keysAppliedSoFar` is the status's count before it. */
  counters(keysAppliedSoFar: number): LiveCounters | undefined {
    if (!this.ls) return undefined;
    if (this.keysAppliedBefore < 0) this.keysAppliedBefore = keysAppliedSoFar;
    return { status: this.ls.status(), keysAppliedBefore: this.keysAppliedBefore };
  }

  /**
   * Stops live sync (graceful: applies what it received; otherwise interrupted first) and detaches
   * it. Returns its last counters, and whether it ended consistent; undefined when none ran.
   */
  async stop(
    graceful: boolean,
    keysAppliedSoFar: number,
  ): Promise<{ consistent: boolean | undefined; last: LiveCounters | undefined } | undefined> {
    const ls = this.ls;
    if (!ls) return undefined;
    if (!graceful) this.interrupt('live sync stopped');
    const report = await ls.stop().catch(() => undefined);
    const last = this.counters(keysAppliedSoFar);
    this.ls = undefined;
    this.keysAppliedBefore = -1;
    return { consistent: report?.consistent, last };
  }

  /** The follower lets go (fenced, handing over): stop at once, keeping nothing. */
  async abandon(): Promise<void> {
    this.interrupt('the follower let go');
    const ls = this.ls;
    this.ls = undefined;
    await ls?.stop().catch(() => undefined);
  }

  private open(how: LiveSyncStart): { ls: Followed; abort: AbortController } {
    const { live } = this.options;
    const abort = new AbortController();
    const options: LiveSyncOptions = {
      dbs: live.dbs,
      ...(live.remap ? { remap: live.remap } : {}),
      holdApply: how.hold,
      reconcileOnStart: how.reconcile,
      statusIntervalMs: this.options.statusIntervalMs,
      mode: live.mode,
      trustNotifyConfig: how.trustNotifyConfig,
      onError: (err) => {
        this.failed = err.message;
        this.failedFinal = err.final;
        this.options.onFailure();
      },
      ...(how.sourceIdentity ? { sourceIdentity: how.sourceIdentity } : {}),
      signal: abort.signal,
      logger: this.options.logger,
    };
    if (live.match) options.match = live.match;
    if (live.bigKeyThresholdBytes) options.bigKeyThresholdBytes = live.bigKeyThresholdBytes;
    if (live.dropFieldTtls) options.dropFieldTtls = true;
    const { source, target } = this.options.endpoints;
    if (!this.options.across) return { ls: new LiveSync(source, target, options), abort };
    // A cluster has db 0 only: one source db is followed (the planner allows no other pairing).
    if (live.dbs === 'all' || live.dbs.length !== 1) {
      throw new LiveSyncError(
        'live sync with a cluster on either side follows exactly one source database',
        true,
      );
    }
    const { dbs: _d, remap: _r, sourceIdentity: _s, ...shared } = options;
    const across: LiveSyncAcrossOptions = {
      ...shared,
      sourceDb: live.dbs[0]!,
      targetDb: targetDbOf(live, live.dbs[0]!),
      ...(how.sourceIdentities ? { sourceIdentities: how.sourceIdentities } : {}),
    };
    return { ls: new LiveSyncAcross(source, target, across), abort };
  }
}
