// copyKeys: every key of the selected databases, source -> target, resumable.
//
// The walk over the databases (SCAN pages, checkpoint after each, progress, abort, reconnects,
// identity checks) is ScanWalk (scan-walk.ts), shared with MIGRATE. Here: its pages are dumped and
// restored (batch.ts) while the next page is read on a source connection of its own, up to
// MAX_BATCHES pages in flight and at most maxInFlightBytes of payloads, so both servers always have
// queued work and the copier's memory stays bounded; the non-empty-target decision; functions; and
// what a stopped copy tells people.
//
// Who source and target are (src/engine/identity) is recorded with the checkpoint: a source that
// changed role, restarted or was flushed stops the copy (exit 1); a target that restarted or lost
// most of its keys makes it start over from the first key, so "copied" means the keys are there.
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { ExitCode, UserError } from '../../util/errors.js';
import { checkMapping, sourceDbOf } from '../db-mapping.js';
import { ServerChangedError } from '../identity/index.js';
import { RespCommandError, RespConnectionError, RespError, replyText } from '../resp/reply.js';
import type { ScanPage } from '../scan-pages.js';
import { copyBatch } from './batch.js';
import { freshCheckpoint, loadResumePoint } from './checkpoint.js';
import { type BatchContext, batchContext, MAX_BATCHES } from './context.js';
import { CopyStoppedError, FatalReplyError } from './errors.js';
import { fieldTtlPolicy, refuseFieldTtlLoss } from './field-ttls.js';
import { copyFunctions, listLibraries } from './functions.js';
import { CopyIdentityCheck } from './identity-check.js';
import { ReconnectsExhausted, ScanWalk, walkReport } from './scan-walk.js';
import { CopySession } from './session.js';
import { decideSizeProbe, probeOutcome, type SizeProbeDecision } from './size-probe.js';
import type { CopyCheckpoint, CopyFingerprint, CopyOptions, CopyReport } from './types.js';

const DEFAULT_BATCH_SIZE = 1000;
const DEFAULT_IN_FLIGHT_BYTES = 64 * 1024 * 1024;

export async function copyKeys(
  source: Endpoint,
  target: Endpoint,
  options: CopyOptions,
): Promise<CopyReport> {
  const started = Date.now();
  const { fingerprint, saved } = await loadResumePoint<CopyCheckpoint>(source, target, options);
  const session = await CopySession.open(source, target, 0, options.remap);
  try {
    refuseFieldTtlLoss(session, options.dbs, options.dropFieldTtls);
    return await new CopyRun(session, options, fingerprint, saved, started).run();
  } finally {
    await session.close().catch(() => session.destroy());
  }
}

class CopyRun {
  private walk!: ScanWalk<CopyCheckpoint>;
  private readonly ctx: BatchContext;
  private readonly sizeProbe: SizeProbeDecision;

  constructor(
    private readonly session: CopySession,
    private readonly options: CopyOptions,
    private readonly fingerprint: CopyFingerprint,
    private readonly saved: CopyCheckpoint | undefined,
    private started: number,
  ) {
    const facts = session.facts;
    this.sizeProbe =
      options.mode === 'by-type'
        ? { perKey: true, reason: 'by-type reads values whole, so every key is measured first' }
        : decideSizeProbe(options.sizeProbe ?? 'auto', facts.sourceMemory);
    this.ctx = batchContext(facts, {
      mode: options.mode,
      bigKeyThresholdBytes: options.bigKeyThresholdBytes,
      inFlightBytes: options.maxInFlightBytes ?? DEFAULT_IN_FLIGHT_BYTES,
      fieldTtls: fieldTtlPolicy(session, options.dropFieldTtls),
      sizeProbe: this.sizeProbe.perKey,
      deleteMissing: false,
      transformPayload: options.transformPayload,
      logger: options.logger,
    });
  }

  private get cp(): CopyCheckpoint {
    return this.walk.cp;
  }

  async run(): Promise<CopyReport> {
    const { session, options } = this;
    const resumed = this.saved !== undefined;
    const dbs = this.saved ? this.saved.dbs.map((d) => d.db) : this.selectDbs();
    this.walk = new ScanWalk(
      {
        match: options.match,
        count: options.batchSize ?? DEFAULT_BATCH_SIZE,
        pagesInFlight: MAX_BATCHES,
        checkpoint: options.checkpoint,
        signal: options.signal,
        logger: options.logger,
        reconnect: {
          isDrop: (err) => err instanceof RespConnectionError || isReconnectFailure(err),
          reconnect: (db) => session.reconnect(db),
          max: options.maxReconnects ?? 5,
        },
        giveUp: (why) =>
          new CopyStoppedError(`copy stopped: ${why}`, ExitCode.problem, this.report(false, resumed)),
      },
      new CopyIdentityCheck(session, dbs, () => session.identities(dbs)),
      {
        selectDb: async (db) => {
          await this.selectBoth(db);
          this.ctx.db = db;
          this.ctx.noExpiringKeys = await this.noExpiringKeys(db);
          return (command) => this.scanPage(command);
        },
        copyPage: (_db, keys) => copyBatch(session.src, session.dst, keys, this.ctx),
      },
    );
    const totalKeys = session.facts.source.keyspace
      .filter((k) => dbs.includes(k.db))
      .reduce((n, k) => n + k.keys, 0);
    const copyFns = options.copyFunctions !== false;
    let sourceLibs: string[] | null = null;
    if (copyFns) sourceLibs = await listLibraries(session.src);

    if (this.saved?.targetPrepared) {
      if (await this.walk.resume(this.saved)) {
        options.logger?.info('checkpoint says this copy already finished: nothing to do');
        return this.report(true, true);
      }
    } else {
      await this.prepareTarget(dbs, sourceLibs);
    }
    // Duration and rate count from here, as the progress does: a person answering the flush
    // prompt (and the flush itself) is not copy time.
    this.started = Date.now();
    this.walk.track(totalKeys, options.onProgress);
    options.logger?.info(
      { perKey: this.sizeProbe.perKey, reason: this.sizeProbe.reason },
      this.sizeProbe.perKey
        ? 'key sizes: MEMORY USAGE before every DUMP'
        : 'key sizes: no MEMORY USAGE per key',
    );

    try {
      await this.walk.run(() => this.copyFunctions(copyFns, sourceLibs, resumed));
    } catch (err) {
      throw await this.stopped(err);
    }
    const complete = this.walk.keysDone && (this.cp.functionsDone || !copyFns);
    this.cp.complete = complete;
    this.walk.save();
    await this.walk.flush();
    this.walk.progress.update(complete ? 'done' : 'keys', this.walk.currentDb, this.cp.counters, true);
    return this.report(complete, resumed);
  }

  private async copyFunctions(
    copyFns: boolean,
    sourceLibs: string[] | null,
    resumed: boolean,
  ): Promise<void> {
    const { session } = this;
    if (!copyFns || this.cp.functionsDone) return;
    this.walk.progress.update('functions', null, this.cp.counters, true);
    if (sourceLibs !== null) {
      const targetLibs = await listLibraries(session.dst);
      // The policy decided when the copy started holds. A resumed (or restarted) run may have
      // restored the libraries already: under 'refuse' it replaces its own copies.
      const again = resumed || (this.cp.restarts?.length ?? 0) > 0;
      const policy = again && this.cp.policy === 'refuse' ? 'replace' : this.cp.policy;
      this.cp.functions = await copyFunctions(session.src, session.dst, policy, sourceLibs, targetLibs);
    }
    this.cp.functionsDone = true;
    this.walk.save();
  }

  /**
   * Whether `db` has no key with a TTL now (INFO keyspace): its pages then try DUMP without PTTL.
   * INFO refused: PTTL as always.
   */
  private async noExpiringKeys(db: number): Promise<boolean> {
    try {
      const entry = (await this.session.keyspace('source')).find((d) => d.db === db);
      return (entry?.expires ?? 0) === 0;
    } catch (err) {
      if (err instanceof RespCommandError) return false;
      throw err;
    }
  }

  /** A SCAN page on the source connection kept for SCAN. */
  private async scanPage(command: (string | number)[]): Promise<ScanPage> {
    const [reply] = await this.session.scan.exec([command]);
    if (reply instanceof RespError || !Array.isArray(reply)) {
      throw new FatalReplyError('source', 'unavailable', `SCAN failed: ${String(reply)}`);
    }
    return { cursor: replyText(reply[0]) ?? '0', keys: (reply[1] ?? []) as Buffer[] };
  }

  private report(complete: boolean, resumed: boolean): CopyReport {
    return {
      ...walkReport(this.cp, this.started, complete, resumed, this.walk.processedThisRun),
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
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
    await this.walk.begin(
      freshCheckpoint({
        fingerprint: this.fingerprint,
        policy,
        dbs,
        identity: await this.walk.identity.capture(),
      }),
    );
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

  /** Turns what stopped the run into a message for people, after saving the checkpoint. */
  private async stopped(err: unknown): Promise<unknown> {
    try {
      await this.walk.flush();
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

/** Reconnecting failed with a connection error mapped for people (unreachable, refused). */
function isReconnectFailure(err: unknown): boolean {
  return err instanceof UserError && /cannot reach|cannot connect|timed out/.test(err.message);
}
