// The resumable walk over the selected databases that copyKeys (DUMP/RESTORE) and migrateKeys
// (MIGRATE) share; each gives it the work of one SCAN page.
//
// Per database: SCAN pages (MATCH, COUNT, one page read ahead), up to `pagesInFlight` of them being
// worked on at once, completed in order. After each page the checkpoint records the SCAN cursor after
// it and the counters, so a resumed run continues there and works the pages that were in flight
// again (RESTORE REPLACE and MIGRATE REPLACE make that harmless). Progress events (keys/s, ETA)
// follow the counters; the abort signal stops the walk after the pages in flight. Who source and
// target are is checked on a resume, every IDENTITY_CHECK_MS, after each reconnect and at the end: a
// source that changed stops the walk (ServerChangedError), a target that lost keys makes it start
// over from the first key (at most MAX_TARGET_RESTARTS times).
import { backoffMs, RETRY_BACKOFF } from '../../util/backoff.js';
import type { Logger } from '../../util/logger.js';
import { sleep } from '../../util/sleep.js';
import { ServerChangedError, type ServerIdentity } from '../identity/index.js';
import { type ScanPageReader, ScanPages } from '../scan-pages.js';
import { CheckpointWriter } from './checkpoint.js';
import { type CopyIdentityCheck, startOver, TargetLost, tooManyRestarts } from './identity-check.js';
import { ProgressTracker } from './progress.js';
import {
  addCounters,
  type CheckpointStore,
  type CopyCheckpoint,
  type CopyCounters,
  type CopyProgress,
  type CopyReport,
  type KeyError,
} from './types.js';

/** Errors kept in the report and the checkpoint; the rest are only counted. */
export const MAX_REPORTED_ERRORS = 100;
/** How often a running walk looks at who source and target are (besides a resume, reconnects and the end). */
const IDENTITY_CHECK_MS = 2000;

/** What the work of one page did. */
export interface PageResult extends CopyCounters {
  errors: KeyError[];
}

export interface ScanWalkWork {
  /** Selects source db `db` (and the target db it goes to) on every connection; returns its SCAN. */
  selectDb(db: number): Promise<ScanPageReader>;
  /** The work of one page (started at once; results are committed in page order). */
  copyPage(db: number, keys: Buffer[]): Promise<PageResult>;
}

/** How a walk recovers from a dropped connection: reconnect, continue from the last checkpointed page. */
export interface ReconnectPolicy {
  /** Whether `err` is a dropped or unreachable connection (anything else ends the walk). */
  isDrop(err: unknown): boolean;
  /** Opens every connection again with `db` selected. */
  reconnect(db: number): Promise<void>;
  /** Reconnects in a row without a page done before the walk stops (ReconnectsExhausted). */
  max: number;
}

export interface ScanWalkOptions {
  match?: string | undefined;
  /** SCAN COUNT. */
  count: number;
  /** Pages being worked on at once (1: one after another). */
  pagesInFlight: number;
  checkpoint?: CheckpointStore | undefined;
  signal?: AbortSignal | undefined;
  logger?: Logger | undefined;
  /** Without it a dropped connection ends the walk (the caller's caller retries from the checkpoint). */
  reconnect?: ReconnectPolicy;
  /** The error that stops the walk once the target lost keys too often (`why` says so). */
  giveUp(why: string): Error;
  /** Resets the caller's own checkpoint fields when the walk starts over from the first key. */
  onStartOver?(): void;
}

export class ScanWalk<C extends CopyCheckpoint> {
  /** The checkpoint in memory: set (resumed or fresh) before `run`, snapshotted by `save`. */
  cp!: C;
  progress!: ProgressTracker;
  /** Keys dealt with in this run (a resumed run's earlier keys not included). */
  processedThisRun = 0;
  /** The database being walked (null before the first). */
  currentDb: number | null = null;
  private readonly writer: CheckpointWriter;
  private lastIdentityCheck = Date.now();

  constructor(
    private readonly options: ScanWalkOptions,
    readonly identity: CopyIdentityCheck,
    private readonly work: ScanWalkWork,
  ) {
    this.writer = new CheckpointWriter(options.checkpoint);
  }

  /**
   * A saved checkpoint: refused (ServerChangedError) when the source is not the one it was taken
   * from; started over when the target restarted or lost keys since. Returns whether it is complete
   * and both servers are unchanged: nothing is left to do.
   */
  async resume(saved: C): Promise<boolean> {
    this.cp = saved;
    const lost = await this.identity.resume(saved);
    if (!lost) return saved.complete;
    this.startOver(lost.lost, lost.now);
    return false;
  }

  /** A fresh checkpoint, written before any key: a run killed from here on resumes without preparing again. */
  async begin(cp: C): Promise<void> {
    this.cp = cp;
    this.save();
    await this.writer.flush();
  }

  /** Progress events from here, against the source's key count in the selected databases. */
  track(totalKeys: number, onProgress: ((p: CopyProgress) => void) | undefined): void {
    this.progress = new ProgressTracker(totalKeys, this.cp.counters, onProgress);
  }

  /**
   * `beforeKeys` (what comes before the keys, such as functions), then every database not done
   * yet, then a last look at both servers: nothing may be called copied that the target lost
   * meanwhile, nor taken from a source that is no longer the one being copied. A target that lost
   * keys makes it all start again from the first key.
   */
  async run(beforeKeys: () => Promise<void>): Promise<void> {
    const { signal } = this.options;
    for (;;) {
      try {
        await beforeKeys();
        for (const entry of this.cp.dbs) {
          if (entry.done) continue;
          if (signal?.aborted) break;
          this.currentDb = entry.db;
          await this.walkDbWithReconnects(entry);
        }
        if (!signal?.aborted) await this.checkIdentities('during the copy');
        return;
      } catch (err) {
        if (!(err instanceof TargetLost)) throw err;
        this.startOver(err.reason, err.now);
      }
    }
  }

  /** Whether every database was walked to its end. */
  get keysDone(): boolean {
    return this.cp.dbs.every((d) => d.done);
  }

  /** Queues a snapshot of the checkpoint (written in the background, newest wins). */
  save(): void {
    const cp = this.cp;
    cp.updatedAt = new Date().toISOString();
    this.writer.save({
      ...cp,
      dbs: cp.dbs.map((d) => ({ ...d })),
      counters: { ...cp.counters },
      errors: cp.errors.slice(),
    });
  }

  /** Waits until every queued snapshot is written; throws if a write failed. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Throws when the source changed (ServerChangedError) or the target lost keys (TargetLost). */
  private async checkIdentities(when: string): Promise<void> {
    this.lastIdentityCheck = Date.now();
    await this.identity.check(this.cp, when);
  }

  /** The target lost what was copied: everything again from the first key (REPLACE). */
  private startOver(reason: string, target: ServerIdentity): void {
    if (!startOver(this.cp, reason, target)) throw this.options.giveUp(tooManyRestarts(reason));
    this.options.onStartOver?.();
    this.options.logger?.warn(
      { reason, restart: this.cp.restarts?.length },
      'the target lost keys: copying again from the start',
    );
    this.save();
  }

  private async walkDbWithReconnects(entry: C['dbs'][number]): Promise<void> {
    const policy = this.options.reconnect;
    if (!policy) return this.walkDb(entry);
    let failures = 0;
    let cursorAtFailure: string | undefined;
    for (;;) {
      try {
        await this.walkDb(entry);
        return;
      } catch (err) {
        if (!policy.isDrop(err)) throw err;
        // Counted per cursor: a walk that gets further between drops keeps going.
        if (entry.cursor !== cursorAtFailure) failures = 0;
        cursorAtFailure = entry.cursor;
        failures++;
        if (failures > policy.max) throw new ReconnectsExhausted(err as Error, failures - 1);
        this.options.logger?.warn(
          { db: entry.db, attempt: failures, err: (err as Error).message },
          'connection lost; reconnecting and resuming from the last checkpoint',
        );
        await sleep(backoffMs(failures, RETRY_BACKOFF));
        try {
          await policy.reconnect(entry.db);
          // A server that dropped the connection may have restarted (empty) or changed role.
          await this.checkIdentities('while the copy was reconnecting');
        } catch (reconnectErr) {
          if (reconnectErr instanceof ServerChangedError || reconnectErr instanceof TargetLost)
            throw reconnectErr;
          if (failures >= policy.max) throw new ReconnectsExhausted(reconnectErr as Error, failures);
          // Next round fails fast on the broken connections and tries again.
        }
      }
    }
  }

  private async walkDb(entry: C['dbs'][number]): Promise<void> {
    const { options, work } = this;
    const pages = new ScanPages(await work.selectDb(entry.db), entry.cursor, options.match, options.count);
    const window: { promise: Promise<PageResult>; cursor: string }[] = [];
    let finished = false;
    const commitHead = async () => {
      const head = window[0]!;
      const result = await head.promise;
      window.shift();
      this.commit(entry, head.cursor, result);
      if (Date.now() - this.lastIdentityCheck >= IDENTITY_CHECK_MS)
        await this.checkIdentities('during the copy');
    };
    try {
      do {
        if (options.signal?.aborted) break;
        while (window.length >= options.pagesInFlight) await commitHead();
        // An abort while the oldest page finished starts no further page.
        if (options.signal?.aborted) break;
        const { keys, cursor } = await pages.next();
        const promise = work.copyPage(entry.db, keys);
        promise.catch(() => undefined); // awaited in order by commitHead
        window.push({ promise, cursor });
        if (cursor === '0') finished = true;
      } while (!finished);
      while (window.length > 0) await commitHead();
    } catch (err) {
      // Let pages still in flight finish or fail before reporting, so nothing writes afterwards.
      await Promise.allSettled(window.map((w) => w.promise));
      throw err;
    } finally {
      pages.close();
    }
    if (finished) {
      entry.done = true;
      entry.cursor = '0';
      this.save();
    }
  }

  private commit(entry: C['dbs'][number], cursor: string, result: PageResult): void {
    const cp = this.cp;
    addCounters(cp.counters, result);
    this.processedThisRun += result.keysCopied + result.keysSkipped + result.keysFailed;
    for (const e of result.errors) {
      if (cp.errors.length < MAX_REPORTED_ERRORS) cp.errors.push(e);
      else cp.errorsOmitted++;
    }
    entry.cursor = cursor;
    this.save();
    this.progress.update('keys', entry.db, cp.counters);
  }
}

/** Reconnecting did not bring the connections back (policy.max times in a row). */
export class ReconnectsExhausted extends Error {
  constructor(
    cause: Error,
    readonly attempts: number,
  ) {
    super(cause.message);
    this.name = 'ReconnectsExhausted';
  }
}

/** What a walk's report says in common (copy and MIGRATE add their own). */
export function walkReport(
  cp: CopyCheckpoint,
  started: number,
  complete: boolean,
  resumed: boolean,
  processedThisRun: number,
): CopyReport {
  const durationMs = Date.now() - started;
  return {
    ...cp.counters,
    dbs: cp.dbs.map((d) => d.db),
    functions: cp.functions,
    errors: cp.errors,
    errorsOmitted: cp.errorsOmitted,
    durationMs,
    keysPerSecond: durationMs > 0 ? Math.round((processedThisRun * 1000) / durationMs) : 0,
    complete,
    resumed,
    restarts: cp.restarts ?? [],
    ...(cp.identity ? { identity: cp.identity } : {}),
  };
}
