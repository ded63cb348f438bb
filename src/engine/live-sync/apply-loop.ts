// The only writer to the target while live sync runs: batches of pending changes, up to
// `concurrency` at once (never two with the same key: pending-changes.ts), or one reconcile pass
// alone (reconcile.ts: the flusher must be held while it runs). Failed batches go back to the
// pending set; failures in a row back off and, past maxApplyFailures, give up.
//
// LiveSync feeds it (pending changes, rescan requests) and owns the lifecycle it reports to.

import type { Redis } from 'ioredis';
import { connect } from '../../redis/connect.js';
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { backoffMs } from '../../util/backoff.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { sleepOrAbort } from '../../util/sleep.js';
import type { DbRemap } from '../db-mapping.js';
import type { Copier } from './copier.js';
import type { DirtyBatch } from './dirty-set.js';
import type { IdentityWatch } from './identity-watch.js';
import { LiveSyncError } from './live-sync-error.js';
import type { AcrossNode } from './options.js';
import type { PendingChanges } from './pending-changes.js';
import { type ReconcileResult, reconcile } from './reconcile.js';
import type { LiveSyncStatus } from './status.js';

export interface ApplyLoopHost {
  /** Changes may be applied now (applying, not failed, following or stopping). */
  canWork(): boolean;
  /** Notifications are received: a reconcile pass waits until they are again. */
  subscribed(): boolean;
  /** Something a waiter may wait on changed (a batch or pass ended, the loop went idle). */
  changed(): void;
  /** A reconcile pass starts (true) or has ended (false). */
  rescanning(running: boolean): void;
  /** The loop cannot go on: live sync fails with this error. */
  failed(error: LiveSyncError): void;
}

export interface ApplyLoopOptions {
  source: Endpoint;
  target: Endpoint;
  dbs: 'all' | number[];
  remap?: DbRemap | undefined;
  match?: string | undefined;
  batchSize: number;
  concurrency: number;
  maxApplyFailures: number;
  /** Aborted when live sync fails or is aborted: stops a pass and a back-off. */
  signal: AbortSignal;
  logger?: Logger | undefined;
  /** Replaces the one-server reconcile pass (live sync across topologies: options.ts AcrossNode). */
  reconcilePass?: AcrossNode['reconcile'] | undefined;
}

/** What the loop did, as the status shows it. */
export type ApplyTotals = Pick<
  LiveSyncStatus,
  'keysApplied' | 'keysDeleted' | 'keysFailed' | 'rescans' | 'extrasDeleted'
>;

export class ApplyLoop {
  readonly totals: ApplyTotals = {
    keysApplied: 0,
    keysDeleted: 0,
    keysFailed: 0,
    rescans: 0,
    extrasDeleted: 0,
  };
  /** The last failure of a batch or pass; kept after later successes (the status shows it). */
  lastError: string | null = null;
  lastRescanReason: string | null = null;

  private pumping = false;
  private pumpScheduled = false;
  private consecutiveFailures = 0;
  /** Reconcile passes asked for, and the generation the last completed pass covered. */
  private rescanWanted = 0;
  private rescanDone = 0;
  /** The generation that covers the last dirty-set overflow. */
  private overflowGen = 0;

  constructor(
    private readonly host: ApplyLoopHost,
    private readonly pending: PendingChanges,
    private readonly copier: Copier,
    private readonly identity: IdentityWatch,
    /** Keys of the followed dbs at the last keyspace check (see silent-drops.ts). */
    private readonly lastSeenKeys: () => number | undefined,
    private readonly options: ApplyLoopOptions,
  ) {}

  /** No batch or pass is running. */
  get idle(): boolean {
    return !this.pumping;
  }

  /** A reconcile pass was asked for and has not completed yet. */
  get rescanPending(): boolean {
    return this.rescanWanted > this.rescanDone;
  }

  /** The generation of the latest request: passed to rescansCover() to wait for it. */
  get rescanGen(): number {
    return this.rescanWanted;
  }

  /** A pass that started after request `gen` (and after the last overflow) has completed. */
  rescansCover(gen: number): boolean {
    return this.rescanDone >= gen && this.rescanDone >= this.overflowGen;
  }

  requestRescan(reason: string): void {
    this.rescanWanted++;
    this.lastRescanReason = reason;
    this.kick();
  }

  /** The dirty set was dropped: the drain barrier must wait for the pass that covers it. */
  requestRescanForOverflow(reason: string): void {
    this.requestRescan(reason);
    this.overflowGen = this.rescanWanted;
  }

  kick(): void {
    if (this.pumping || this.pumpScheduled) return;
    this.pumpScheduled = true;
    // setImmediate lets a burst of notifications from one socket read gather into one batch.
    setImmediate(() => {
      this.pumpScheduled = false;
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    const running = new Set<Promise<void>>();
    try {
      while (this.host.canWork()) {
        if (this.rescanPending && this.host.subscribed()) {
          if (running.size > 0) await Promise.race(running);
          else await this.runRescan();
          continue;
        }
        while (running.size < this.options.concurrency) {
          const batch = this.pending.take(this.options.batchSize);
          if (!batch) break;
          const p: Promise<void> = this.applyBatch(batch).finally(() => running.delete(p));
          running.add(p);
        }
        if (running.size === 0) break;
        await Promise.race(running);
      }
    } catch (err) {
      this.host.failed(err instanceof LiveSyncError ? err : new LiveSyncError(errorMessage(err)));
    } finally {
      // Nothing may still be writing once the pump says it is idle.
      await Promise.allSettled(running);
      this.pumping = false;
      this.host.changed();
      // Work that arrived while the last batches finished.
      if (this.host.canWork() && this.pending.waiting > 0) this.kick();
    }
  }

  private async applyBatch(batch: DirtyBatch): Promise<void> {
    try {
      await this.identity.checkBeforeBatch();
      const result = await this.copier.copyKeySet(batch.db, batch.keys);
      this.totals.keysApplied += batch.keys.length - result.keysFailed;
      this.totals.keysFailed += result.keysFailed;
      this.totals.keysDeleted += result.keysDeleted ?? 0;
      // A hash whose field TTLs the target cannot hold: following on would drop them silently.
      if (result.refusal) throw new LiveSyncError(`live sync stopped: ${result.refusal}`, true);
      this.consecutiveFailures = 0;
    } catch (err) {
      this.pending.putBack(batch);
      if (err instanceof LiveSyncError && err.final) throw err;
      // The keys stay busy during the back-off, so no other lane retries them at once.
      await this.afterFailure(err, 'applying changes to the target', describeEndpoint(this.options.target));
    } finally {
      this.pending.settle(batch);
      this.host.changed();
    }
  }

  private async runRescan(): Promise<void> {
    const gen = this.rescanWanted;
    const { options } = this;
    this.host.rescanning(true);
    options.logger?.info({ reason: this.lastRescanReason }, 'live sync reconcile pass started');
    let source: Redis | undefined;
    let target: Redis | undefined;
    try {
      const beforeDeletes = () => this.identity.checkBeforeDeletes(this.lastSeenKeys());
      let result: ReconcileResult;
      if (options.reconcilePass) {
        await this.identity.checkSource('during live sync, before a reconcile pass');
        result = await options.reconcilePass(options.signal, beforeDeletes);
      } else {
        source = await connect(options.source, { role: 'live-sync-reconcile' });
        target = await connect(options.target, { role: 'live-sync-reconcile' });
        // The pass overwrites (RESTORE REPLACE) and deletes: only from the source being migrated.
        await this.identity.checkSource('during live sync, before a reconcile pass');
        result = await reconcile(this.copier, source, target, {
          dbs: options.dbs,
          ...(options.remap ? { remap: options.remap } : {}),
          ...(options.match ? { match: options.match } : {}),
          batchSize: options.batchSize,
          signal: options.signal,
          beforeDeletes,
        });
      }
      this.totals.extrasDeleted += result.extrasDeleted;
      this.totals.rescans++;
      this.rescanDone = gen;
      this.consecutiveFailures = 0;
      options.logger?.info(result, 'live sync reconcile pass done');
    } catch (err) {
      if (options.signal.aborted) throw err;
      if (err instanceof LiveSyncError && err.final) throw err;
      await this.afterFailure(err, 'the reconcile pass', 'source and target');
    } finally {
      source?.disconnect();
      target?.disconnect();
      this.host.rescanning(false);
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
    if (this.consecutiveFailures >= this.options.maxApplyFailures) {
      throw new LiveSyncError(
        `live sync gave up after ${this.consecutiveFailures} failures in a row of ${what} ` +
          `(last: ${errorMessage(err)}). Check that ${where} are reachable and writable, then start live ` +
          `sync again with a reconcile pass (reconcileOnStart) before any cutover.`,
      );
    }
    await sleepOrAbort(
      backoffMs(this.consecutiveFailures, { baseMs: 100, maxMs: 5000 }),
      this.options.signal,
    );
  }
}
