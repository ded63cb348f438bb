// copyKeys: every key of the selected databases, source -> target, resumable.
//
// Pipeline per database: SCAN pages are read one after another, one page ahead, on a source
// connection of their own while earlier pages are still being dumped and restored (up to
// MAX_BATCHES pages in flight, and at most maxInFlightBytes of payloads), so both servers always
// have queued work and the copier's memory stays bounded. Pages complete in order, and after each page
// the checkpoint records the SCAN cursor after it and the counters: a resumed run continues
// there and copies the pages that were in flight again (RESTORE REPLACE makes that harmless).
//
// Who source and target are (src/engine/identity) is recorded with the checkpoint and checked on
// every reconnect, every IDENTITY_CHECK_MS and before the copy calls itself complete: a source that
// changed role, restarted or was flushed stops the copy (exit 1); a target that restarted or lost
// most of its keys makes it start over from the first key, so "copied" means the keys are there.
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { backoffMs, RETRY_BACKOFF } from '../../util/backoff.js';
import { ExitCode, UserError } from '../../util/errors.js';
import { sleep } from '../../util/sleep.js';
import { checkMapping, sourceDbOf } from '../db-mapping.js';
import { ServerChangedError, type ServerIdentity } from '../identity/index.js';
import type { RespConnection } from '../resp/connection.js';
import { RespCommandError, RespConnectionError, RespError, replyText } from '../resp/reply.js';
import { copyBatch } from './batch.js';
import { ByteBudget } from './budget.js';
import { CheckpointWriter, checkFingerprint, copyFingerprint } from './checkpoint.js';
import { type BatchContext, type BatchResult, unsizedBatchBytes } from './context.js';
import { CopyStoppedError, FatalReplyError } from './errors.js';
import { fieldTtlPolicy, refuseFieldTtlLoss } from './field-ttls.js';
import { copyFunctions, listLibraries } from './functions.js';
import { CopyIdentityCheck, startOver, TargetLost, tooManyRestarts } from './identity-check.js';
import { ProgressTracker } from './progress.js';
import { CopySession } from './session.js';
import { decideSizeProbe, probeOutcome, type SizeProbeDecision } from './size-probe.js';
import {
  addCounters,
  type CopyCheckpoint,
  type CopyFingerprint,
  type CopyOptions,
  type CopyReport,
  zeroCounters,
} from './types.js';

export const DEFAULT_BIG_KEY_THRESHOLD = 64 * 1024 * 1024;
const DEFAULT_BATCH_SIZE = 1000;
const DEFAULT_IN_FLIGHT_BYTES = 64 * 1024 * 1024;
/** SCAN pages being copied at once. */
export const MAX_BATCHES = 8;
/** Errors kept in the report and the checkpoint; the rest are only counted. */
export const MAX_REPORTED_ERRORS = 100;
/** How often a running copy looks at who source and target are (besides each reconnect and the end). */
const IDENTITY_CHECK_MS = 2000;

export async function copyKeys(
  source: Endpoint,
  target: Endpoint,
  options: CopyOptions,
): Promise<CopyReport> {
  const started = Date.now();
  const fingerprint = copyFingerprint(source, target, options);
  const saved = options.checkpoint ? await options.checkpoint.load() : undefined;
  if (saved) checkFingerprint(saved.fingerprint, fingerprint);
  const session = await CopySession.open(source, target, 0, options.remap);
  try {
    refuseFieldTtlLoss(session, options.dbs, options.dropFieldTtls);
    return await new CopyRun(session, options, fingerprint, saved, started).run();
  } finally {
    await session.close().catch(() => session.destroy());
  }
}

class CopyRun {
  private cp!: CopyCheckpoint;
  private readonly writer: CheckpointWriter;
  private readonly ctx: BatchContext;
  private progress!: ProgressTracker;
  private currentDb: number | null = null;
  private processedThisRun = 0;
  private readonly sizeProbe: SizeProbeDecision;
  private identity!: CopyIdentityCheck;
  private lastIdentityCheck = Date.now();

  constructor(
    private readonly session: CopySession,
    private readonly options: CopyOptions,
    private readonly fingerprint: CopyFingerprint,
    private readonly saved: CopyCheckpoint | undefined,
    private readonly started: number,
  ) {
    this.writer = new CheckpointWriter(options.checkpoint);
    const facts = session.facts;
    this.sizeProbe =
      options.mode === 'by-type'
        ? { perKey: true, reason: 'by-type reads values whole, so every key is measured first' }
        : decideSizeProbe(options.sizeProbe ?? 'auto', facts.sourceMemory);
    const inFlightBytes = options.maxInFlightBytes ?? DEFAULT_IN_FLIGHT_BYTES;
    const threshold = Math.min(
      options.bigKeyThresholdBytes ?? DEFAULT_BIG_KEY_THRESHOLD,
      facts.targetMaxBulk,
    );
    this.ctx = {
      db: 0,
      mode: options.mode ?? 'auto',
      bigKeyThreshold: threshold,
      maxPayload: facts.targetMaxBulk,
      features: facts.features,
      fieldTtls: fieldTtlPolicy(session, options.dropFieldTtls),
      deleteMissing: false,
      budget: new ByteBudget(inFlightBytes),
      sizeProbe: this.sizeProbe.perKey,
      unsizedBatchBytes: unsizedBatchBytes(inFlightBytes, MAX_BATCHES),
      payloadVersions: new Map(),
      chunkBytes: Math.max(64, Math.min(1024 * 1024, Math.floor(threshold / 4))),
      ...(options.transformPayload ? { transformPayload: options.transformPayload } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    };
  }

  async run(): Promise<CopyReport> {
    const { session, options } = this;
    const resumed = this.saved !== undefined;
    const dbs = this.saved ? this.saved.dbs.map((d) => d.db) : this.selectDbs();
    this.identity = new CopyIdentityCheck(session, dbs, () => session.identities(dbs));
    const totalKeys = session.facts.source.keyspace
      .filter((k) => dbs.includes(k.db))
      .reduce((n, k) => n + k.keys, 0);
    const copyFns = options.copyFunctions !== false;
    let sourceLibs: string[] | null = null;
    if (copyFns) sourceLibs = await listLibraries(session.src);

    if (this.saved?.targetPrepared) {
      this.cp = this.saved;
      const unchanged = await this.checkResume();
      if (unchanged && this.cp.complete) {
        options.logger?.info('checkpoint says this copy already finished: nothing to do');
        return this.report(true, true);
      }
    } else {
      await this.prepareTarget(dbs, sourceLibs);
    }
    this.progress = new ProgressTracker(totalKeys, this.cp.counters, options.onProgress);
    options.logger?.info(
      { perKey: this.sizeProbe.perKey, reason: this.sizeProbe.reason },
      this.sizeProbe.perKey
        ? 'key sizes: MEMORY USAGE before every DUMP'
        : 'key sizes: no MEMORY USAGE per key',
    );

    for (;;) {
      try {
        await this.copyAll(copyFns, sourceLibs, resumed);
        // Nothing may be called copied that the target lost meanwhile, nor taken from a source
        // that is no longer the one being copied.
        if (!options.signal?.aborted) await this.checkIdentities('during the copy');
        break;
      } catch (err) {
        if (err instanceof TargetLost) this.startOver(err.reason, err.now);
        else throw await this.stopped(err);
      }
    }
    const complete = this.cp.dbs.every((d) => d.done) && (this.cp.functionsDone || !copyFns);
    this.cp.complete = complete;
    this.save();
    await this.writer.flush();
    this.progress.update(complete ? 'done' : 'keys', this.currentDb, this.cp.counters, true);
    return this.report(complete, resumed);
  }

  private async copyAll(copyFns: boolean, sourceLibs: string[] | null, resumed: boolean): Promise<void> {
    const { session, options } = this;
    if (copyFns && !this.cp.functionsDone) {
      this.progress.update('functions', null, this.cp.counters, true);
      if (sourceLibs !== null) {
        const targetLibs = await listLibraries(session.dst);
        // The policy decided when the copy started holds. A resumed (or restarted) run may have
        // restored the libraries already: under 'refuse' it replaces its own copies.
        const again = resumed || (this.cp.restarts?.length ?? 0) > 0;
        const policy = again && this.cp.policy === 'refuse' ? 'replace' : this.cp.policy;
        this.cp.functions = await copyFunctions(session.src, session.dst, policy, sourceLibs, targetLibs);
      }
      this.cp.functionsDone = true;
      this.save();
    }
    for (const entry of this.cp.dbs) {
      if (entry.done) continue;
      if (options.signal?.aborted) break;
      this.currentDb = entry.db;
      await this.copyDbWithRetries(entry);
    }
  }

  /**
   * A resumed checkpoint: refused when the source is not the one it was taken from; started over
   * when the target restarted or lost keys since. Returns whether both are unchanged.
   */
  private async checkResume(): Promise<boolean> {
    const lost = await this.identity.resume(this.cp);
    if (!lost) return true;
    this.startOver(lost.lost, lost.now);
    return false;
  }

  /** Throws when the source changed (ServerChangedError) or the target lost keys (TargetLost). */
  private async checkIdentities(when: string): Promise<void> {
    this.lastIdentityCheck = Date.now();
    await this.identity.check(this.cp, when);
  }

  /** The target lost what was copied: copy everything again from the first key (RESTORE REPLACE). */
  private startOver(reason: string, target: ServerIdentity): void {
    if (!startOver(this.cp, reason, target)) {
      throw new CopyStoppedError(
        `copy stopped: ${tooManyRestarts(reason)}`,
        ExitCode.problem,
        this.report(false, this.saved !== undefined),
      );
    }
    this.options.logger?.warn(
      { reason, restart: this.cp.restarts?.length },
      'the target lost keys: copying again from the start',
    );
    this.save();
  }

  private report(complete: boolean, resumed: boolean): CopyReport {
    return {
      ...report(this.cp, this.started, complete, resumed, this.processedThisRun),
      sizeProbe: probeOutcome(this.sizeProbe, this.ctx.sizeProbe),
      ...(this.options.remap ? { remap: this.options.remap } : {}),
    };
  }

  private selectDbs(): number[] {
    checkMapping(this.options);
    const { dbs } = this.options;
    if (dbs === 'all') {
      return this.session.facts.source.keyspace.filter((k) => k.keys > 0).map((k) => k.db);
    }
    for (const db of dbs) {
      if (!Number.isInteger(db) || db < 0) throw new UserError(`not a database number: ${db}`);
    }
    return [...new Set(dbs)].sort((a, b) => a - b);
  }

  /** The non-empty-target decision, taken once per copy and recorded in the checkpoint. */
  private async prepareTarget(dbs: number[], sourceLibs: string[] | null): Promise<void> {
    const { session, options } = this;
    const policy = options.onNonEmptyTarget;
    // Every selected database must exist on both sides.
    for (const db of dbs) await this.selectBoth(db);
    const targetKeyspace = await session.keyspace('target');
    const targetDbs = dbs.map((db) => session.targetDb(db));
    const relevant = targetKeyspace.filter(
      (k) => k.keys > 0 && (options.dbs === 'all' || targetDbs.includes(k.db)),
    );
    const targetLibs = sourceLibs !== null ? await listLibraries(session.dst) : null;
    const where = describeEndpoint(session.target);
    // Function libraries count as data, as the planner counts them (planner/functions.ts): any of
    // them makes the target not empty, not only those named like the source's.
    if (policy === 'refuse' && (relevant.length > 0 || (targetLibs?.length ?? 0) > 0)) {
      const parts = relevant.map((k) => `db${k.db} has ${k.keys} key${k.keys === 1 ? '' : 's'}`);
      if (targetLibs?.length) parts.push(`function libraries: ${[...targetLibs].sort().join(', ')}`);
      throw new UserError(
        `target ${where} is not empty: ${parts.join(', ')}. Choose replace (--replace: same-name keys ` +
          `and libraries are overwritten, the target's other libraries stay) or flush (--flush-target: ` +
          `those databases are emptied first and the target's libraries become exactly the source's)`,
        ExitCode.problem,
      );
    }
    if (policy === 'flush' && (relevant.length > 0 || (targetLibs?.length ?? 0) > 0)) {
      const nonEmpty = relevant.map((k) => ({ db: k.db, keys: k.keys }));
      if (options.confirmFlush && !(await options.confirmFlush(nonEmpty, targetLibs ?? []))) {
        throw new UserError(`not confirmed: target ${where} was left as it was`, ExitCode.problem);
      }
      for (const k of relevant) {
        // relevant holds target dbs; under a remap only the mapped one is ever relevant.
        await this.selectBoth(sourceDbOf(options, k.db) ?? k.db);
        // ASYNC (Redis 4+) empties the database at once and frees memory in the background, so a
        // huge database does not block the target; older servers flush synchronously.
        const [flushed] = await session.dst.exec([['FLUSHDB', 'ASYNC']]);
        if (flushed instanceof RespError) await session.dst.call('FLUSHDB');
        options.logger?.info({ db: k.db, keys: k.keys }, 'flushed target database');
      }
    }
    const now = new Date().toISOString();
    const identity = await this.identity.capture();
    this.cp = {
      version: 1,
      fingerprint: this.fingerprint,
      policy,
      targetPrepared: true,
      dbs: dbs.map((db) => ({ db, cursor: '0', done: false })),
      functionsDone: false,
      functions: null,
      counters: zeroCounters(),
      complete: false,
      errors: [],
      errorsOmitted: 0,
      startedAt: now,
      updatedAt: now,
      identity,
      restarts: [],
    };
    this.save();
    // Written before any key: a run killed from here on resumes without re-asking.
    await this.writer.flush();
  }

  private async selectBoth(db: number): Promise<void> {
    try {
      await this.session.select(db);
    } catch (err) {
      if (err instanceof RespCommandError) {
        const where =
          this.session.targetDb(db) === db
            ? `database ${db}`
            : `database ${db} (target db ${this.session.targetDb(db)})`;
        throw new UserError(`cannot select ${where}: ${err.message}`);
      }
      throw err;
    }
  }

  /** A dropped connection is retried (reconnect, continue from the last checkpointed page). */
  private async copyDbWithRetries(entry: CopyCheckpoint['dbs'][number]): Promise<void> {
    const maxReconnects = this.options.maxReconnects ?? 5;
    let failures = 0;
    let cursorAtFailure: string | undefined;
    for (;;) {
      try {
        await this.copyDb(entry);
        return;
      } catch (err) {
        if (!(err instanceof RespConnectionError) && !isReconnectFailure(err)) throw err;
        if (entry.cursor !== cursorAtFailure) failures = 0;
        cursorAtFailure = entry.cursor;
        failures++;
        if (failures > maxReconnects) throw new ReconnectsExhausted(err as Error, failures - 1);
        this.options.logger?.warn(
          { db: entry.db, attempt: failures, err: (err as Error).message },
          'connection lost; reconnecting and resuming from the last checkpoint',
        );
        await sleep(backoffMs(failures, RETRY_BACKOFF));
        try {
          await this.session.reconnect(entry.db);
          // A server that dropped the connection may have restarted (empty) or changed role.
          await this.checkIdentities('while the copy was reconnecting');
        } catch (reconnectErr) {
          if (reconnectErr instanceof ServerChangedError || reconnectErr instanceof TargetLost)
            throw reconnectErr;
          if (failures >= maxReconnects) throw new ReconnectsExhausted(reconnectErr as Error, failures);
          // Next round fails fast on the broken connections and tries again.
        }
      }
    }
  }

  private async copyDb(entry: CopyCheckpoint['dbs'][number]): Promise<void> {
    const { session, options, ctx } = this;
    await this.selectBoth(entry.db);
    ctx.db = entry.db;
    const src = session.src;
    const dst = session.dst;
    const pages = new PageReader(
      session.scan,
      entry.cursor,
      options.match,
      options.batchSize ?? DEFAULT_BATCH_SIZE,
    );
    const window: { promise: Promise<BatchResult>; cursor: string }[] = [];
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
        while (window.length >= MAX_BATCHES) await commitHead();
        const { keys, cursor } = await pages.next();
        const promise = copyBatch(src, dst, keys, ctx);
        promise.catch(() => undefined); // awaited in order by commitHead
        window.push({ promise, cursor });
        if (cursor === '0') finished = true;
      } while (!finished);
      while (window.length > 0) await commitHead();
    } catch (err) {
      // Let batches still in flight finish or fail before reporting, so nothing writes afterwards.
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

  private commit(entry: CopyCheckpoint['dbs'][number], cursor: string, result: BatchResult): void {
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

  private save(): void {
    const cp = this.cp;
    cp.updatedAt = new Date().toISOString();
    this.writer.save({
      ...cp,
      dbs: cp.dbs.map((d) => ({ ...d })),
      counters: { ...cp.counters },
      errors: cp.errors.slice(),
    });
  }

  /** Turns what stopped the run into a message for people, after saving the checkpoint. */
  private async stopped(err: unknown): Promise<unknown> {
    try {
      await this.writer.flush();
    } catch {
      // The original error matters more.
    }
    const partial = this.report(false, this.saved !== undefined);
    const done = `${this.cp.counters.keysCopied} keys copied so far`;
    const resume = this.options.checkpoint
      ? 'the checkpoint is saved: run the same copy again to resume'
      : 'run again with a checkpoint to be able to resume';
    if (err instanceof FatalReplyError) {
      const endpoint = describeEndpoint(err.side === 'target' ? this.session.target : this.session.source);
      const what =
        err.kind === 'oom'
          ? `the ${err.side} ${endpoint} is out of memory (${err.reply}); free memory or raise maxmemory`
          : `the ${err.side} ${endpoint} cannot serve the copy (${err.reply})`;
      return new CopyStoppedError(`copy stopped: ${what}. ${done}; ${resume}`, ExitCode.problem, partial);
    }
    if (err instanceof ServerChangedError) {
      return new CopyStoppedError(`copy stopped: ${err.message}`, ExitCode.problem, partial);
    }
    if (err instanceof ReconnectsExhausted) {
      return new CopyStoppedError(
        `copy stopped: ${err.message} (gave up after ${err.attempts} reconnect attempts). ${done}; ${resume}`,
        ExitCode.usage,
        partial,
      );
    }
    return err;
  }
}

/**
 * SCAN pages of one database, read one page ahead: the next SCAN is sent as soon as a page is
 * handed out, so it is answered while that page is being copied.
 */
class PageReader {
  private ahead: Promise<{ keys: Buffer[]; cursor: string }> | undefined;

  constructor(
    private readonly conn: RespConnection,
    cursor: string,
    private readonly match: string | undefined,
    private readonly count: number,
  ) {
    this.ahead = this.read(cursor);
    // Handled here too: a read ahead that fails while nobody awaits it must not go unhandled.
    this.ahead.catch(() => undefined);
  }

  async next(): Promise<{ keys: Buffer[]; cursor: string }> {
    const page = await this.ahead!;
    this.ahead = page.cursor === '0' ? undefined : this.read(page.cursor);
    this.ahead?.catch(() => undefined);
    return page;
  }

  /** Nobody waits for the page read ahead any more (stopped, or failed elsewhere). */
  close(): void {
    this.ahead = undefined;
  }

  private async read(cursor: string): Promise<{ keys: Buffer[]; cursor: string }> {
    const scan: (string | number)[] = ['SCAN', cursor];
    if (this.match) scan.push('MATCH', this.match);
    scan.push('COUNT', this.count);
    const [reply] = await this.conn.exec([scan]);
    if (reply instanceof RespError || !Array.isArray(reply)) {
      throw new FatalReplyError('source', 'unavailable', `SCAN failed: ${String(reply)}`);
    }
    return { cursor: replyText(reply[0]) ?? '0', keys: (reply[1] ?? []) as Buffer[] };
  }
}

class ReconnectsExhausted extends Error {
  constructor(
    cause: Error,
    readonly attempts: number,
  ) {
    super(cause.message);
    this.name = 'ReconnectsExhausted';
  }
}

/** Reconnecting failed with a connection error mapped for people (unreachable, refused). */
function isReconnectFailure(err: unknown): boolean {
  return err instanceof UserError && /cannot reach|cannot connect|timed out/.test(err.message);
}

function report(
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
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    complete,
    resumed,
    restarts: cp.restarts ?? [],
    ...(cp.identity ? { identity: cp.identity } : {}),
  };
}
