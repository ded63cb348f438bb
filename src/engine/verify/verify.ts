// Bidirectional verification of a target against its source (see types.ts for the contract).
//
// Per database, two passes run at the same time:
//   forward: SCAN the source; each page is compared on both servers (evaluate.ts);
//   reverse: SCAN the target; one multi-key EXISTS on the source per page finds keys that exist
//            only on the target (per-key EXISTS only for pages where some are missing).
// Keys that differ are not reported at once: they are re-read recheckRounds times, recheckDelayMs
// apart, and only those still differing at the end count. Writes in flight during a live sync
// converge, and a key that expired (or was deleted) on the source in between is simply fine.
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { UserError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { sleepOrAbort } from '../../util/sleep.js';
import { refuseClusterNode } from '../cluster/standalone-only.js';
import {
  decideSizeProbe,
  probeOutcome,
  readMemoryFacts,
  type SizeProbeDecision,
} from '../copy/size-probe.js';
import { checkMapping, targetDbOf } from '../db-mapping.js';
import { respInfo } from '../identity/index.js';
import { RespConnection } from '../resp/connection.js';
import { type RespArg, RespConnectionError, RespError, type RespReply } from '../resp/reply.js';
import { DifferenceLog } from './difference-log.js';
import { type CompareState, type EvaluateContext, evaluateKeys, type KeyOutcome } from './evaluate.js';
import { decideExpiryClock, describeExpiryClock, type ExpiryClock } from './expiry.js';
import {
  type DbCounts,
  DEFAULT_TTL_TOLERANCE_MS,
  type VerifyOptions,
  type VerifyProgress,
  type VerifyReport,
} from './types.js';

const DEFAULTS = {
  ttlToleranceMs: DEFAULT_TTL_TOLERANCE_MS,
  recheckRounds: 3,
  recheckDelayMs: 1000,
  maxSamplesPerClass: 10,
  batchSize: 1000,
  chunkSize: 1000,
  maxRecheckKeys: 100_000,
  bigKeyThresholdBytes: 8 * 1024 * 1024,
};
/**
 * DUMP payload bytes one page reads at once per server (grouped by MEMORY USAGE when sizes are
 * probed, and a cap on the replies either way): with FORWARD_IN_FLIGHT pages, at most 128 MiB.
 */
const GROUP_BYTES = 16 * 1024 * 1024;
/**
 * Pages compared at the same time per pass. Measured on 300k keys (2 cores): 2 in flight 110-119k
 * keys/s, 4 in flight 125k, 8 in flight 105-119k (more server CPU per key: bigger reply buffers).
 */
const FORWARD_IN_FLIGHT = 4;
const REVERSE_IN_FLIGHT = 2;
const PROGRESS_INTERVAL_MS = 250;

interface Connections {
  source: RespConnection;
  sourceScan: RespConnection;
  target: RespConnection;
  targetScan: RespConnection;
}

export async function verify(
  source: Endpoint,
  target: Endpoint,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const run = new VerifyRun(source, target, options);
  try {
    return await run.run();
  } catch (err) {
    if (err instanceof RespConnectionError) throw new UserError(`verification stopped: ${err.message}`);
    throw err;
  }
}

class VerifyRun {
  private readonly opts: typeof DEFAULTS;
  private readonly log: DifferenceLog;
  private readonly state: CompareState;
  private readonly started = Date.now();
  private readonly logger: Logger | undefined;
  private conns!: Connections;
  private keysChecked = 0;
  private totalKeys = 0;
  private currentDb: number | null = null;
  private lastProgress = 0;
  /** Keys that differed at first and were fine at a re-check. */
  private cleared = 0;
  private sizeProbe: SizeProbeDecision = { perKey: false, reason: 'not decided yet' };
  private expiry: ExpiryClock = { kind: 'relative', reason: 'not decided yet' };

  constructor(
    private readonly source: Endpoint,
    private readonly target: Endpoint,
    private readonly options: VerifyOptions,
  ) {
    this.opts = {
      ttlToleranceMs: options.ttlToleranceMs ?? DEFAULTS.ttlToleranceMs,
      recheckRounds: options.recheckRounds ?? DEFAULTS.recheckRounds,
      recheckDelayMs: options.recheckDelayMs ?? DEFAULTS.recheckDelayMs,
      maxSamplesPerClass: options.maxSamplesPerClass ?? DEFAULTS.maxSamplesPerClass,
      batchSize: options.batchSize ?? DEFAULTS.batchSize,
      chunkSize: options.chunkSize ?? DEFAULTS.chunkSize,
      maxRecheckKeys: options.maxRecheckKeys ?? DEFAULTS.maxRecheckKeys,
      bigKeyThresholdBytes: options.bigKeyThresholdBytes ?? DEFAULTS.bigKeyThresholdBytes,
    };
    validate(this.opts, options);
    this.logger = options.logger;
    this.log = new DifferenceLog(this.opts.maxRecheckKeys, this.opts.maxSamplesPerClass);
    const digestOnly = options.compareBy === 'digest';
    this.state = {
      mode: digestOnly ? 'digest' : 'dump',
      auto: !digestOnly,
      versions: { source: null, target: null },
      byPayload: 0,
      byType: 0,
      checkSizes: this.opts.bigKeyThresholdBytes > 0,
    };
  }

  async run(): Promise<VerifyReport> {
    for (const e of [this.source, this.target]) {
      if (e.cluster)
        throw new UserError(`${describeEndpoint(e)}: verify does not support cluster endpoints yet`);
    }
    this.options.signal?.throwIfAborted();
    this.conns = await openConnections(this.source, this.target);
    try {
      await refuseClusterNode(respInfo(this.conns.source), describeEndpoint(this.source));
      await refuseClusterNode(respInfo(this.conns.target), describeEndpoint(this.target));
      await this.decideSizeProbe();
      this.expiry = await decideExpiryClock(this.conns.source, this.conns.target);
      this.logger?.info(describeExpiryClock(this.expiry), 'verify: how TTLs are compared');
      const dbs = await this.resolveDbs();
      const sampled = this.options.sample !== undefined;
      this.totalKeys = sampled ? this.options.sample! : dbs.reduce((n, d) => n + d.sourceKeys, 0);
      if (sampled) await this.samplePass(dbs);
      else for (const d of dbs) await this.scanDb(d.db);
      // Counted before the re-checks, which compare some keys again.
      const comparisons = { byPayload: this.state.byPayload, byType: this.state.byType };
      const rounds = await this.recheck();
      const explain = this.options.explain;
      // The apps' writes were recorded on the target, so they are asked about by target db.
      if (explain)
        await this.log.explain((keys) =>
          explain(keys.map((k) => ({ ...k, db: targetDbOf(this.options, k.db) }))),
        );
      const differences = this.log.finish();
      const durationMs = Date.now() - this.started;
      const report: VerifyReport = {
        identical: this.log.differentKeys === 0,
        keysChecked: this.keysChecked,
        dbs,
        differences,
        comparedBy: this.comparedBy(comparisons),
        sampled,
        durationMs,
        keysPerSecond: Math.round((this.keysChecked * 1000) / Math.max(1, durationMs)),
        comparisons,
        rdbVersions: { ...this.state.versions },
        recheck: {
          rounds,
          candidates: this.log.candidatesSeen,
          cleared: this.cleared,
          unconfirmed: this.log.unconfirmed,
        },
        differentKeys: this.log.differentKeys,
        sizeProbe: probeOutcome(this.sizeProbe, this.state.checkSizes),
        ttls: describeExpiryClock(this.expiry),
      };
      if (this.options.explain) report.explained = this.log.explainedTally();
      this.emitProgress('done', true);
      return report;
    } finally {
      for (const c of Object.values(this.conns)) c.destroy();
    }
  }

  /**
   * MEMORY USAGE before DUMP when a huge key's DUMP could hurt either server (DUMP runs on both),
   * as the copy decides it; never with bigKeyThresholdBytes 0.
   */
  private async decideSizeProbe(): Promise<void> {
    if (this.opts.bigKeyThresholdBytes === 0) {
      this.sizeProbe = { perKey: false, reason: 'turned off (big-key threshold 0)' };
    } else {
      const setting = this.options.sizeProbe ?? 'auto';
      const [source, target] = await Promise.all([
        readMemoryFacts(this.conns.source),
        readMemoryFacts(this.conns.target),
      ]);
      const a = decideSizeProbe(setting, source, 'source');
      const b = decideSizeProbe(setting, target, 'target');
      // Probed when either side needs it; the reason is the side's that decided.
      this.sizeProbe = a.perKey || !b.perKey ? a : b;
    }
    this.state.checkSizes = this.sizeProbe.perKey;
    this.logger?.info({ perKey: this.sizeProbe.perKey, reason: this.sizeProbe.reason }, 'verify: key sizes');
  }

  private comparedBy({ byPayload, byType }: VerifyReport['comparisons']): VerifyReport['comparedBy'] {
    if (!this.state.auto) return 'digest';
    if (byType === 0) return 'dump';
    if (byPayload === 0 && this.state.mode === 'digest') return 'digest';
    return 'mixed';
  }

  private context(): EvaluateContext {
    return {
      source: this.conns.source,
      target: this.conns.target,
      state: this.state,
      ttlToleranceMs: this.opts.ttlToleranceMs,
      expiry: this.expiry,
      chunkSize: this.opts.chunkSize,
      bigKeyBytes: this.opts.bigKeyThresholdBytes,
      groupBytes: GROUP_BYTES,
    };
  }

  /** The databases to check, with key counts from INFO keyspace on both sides. */
  private async resolveDbs(): Promise<DbCounts[]> {
    const [src, tgt] = await Promise.all([keyspace(this.conns.source), keyspace(this.conns.target)]);
    let dbs: number[];
    if (this.options.dbs === 'all') {
      dbs = [...new Set([...src.keys(), ...tgt.keys()])].sort((a, b) => a - b);
    } else {
      dbs = [...new Set(this.options.dbs)].sort((a, b) => a - b);
    }
    return dbs.map((db) => {
      const targetDb = targetDbOf(this.options, db);
      const s = src.get(db);
      const t = tgt.get(targetDb);
      return {
        db,
        ...(targetDb !== db ? { targetDb } : {}),
        sourceKeys: s?.keys ?? 0,
        targetKeys: t?.keys ?? 0,
        sourceExpires: s?.expires ?? 0,
        targetExpires: t?.expires ?? 0,
      };
    });
  }

  private async selectDb(db: number): Promise<void> {
    this.currentDb = db;
    try {
      const targetDb = targetDbOf(this.options, db);
      const { source, sourceScan, target, targetScan } = this.conns;
      await Promise.all([
        source.select(db),
        sourceScan.select(db),
        target.select(targetDb),
        targetScan.select(targetDb),
      ]);
    } catch (err) {
      const which =
        targetDbOf(this.options, db) === db ? `${db}` : `${db} (target db ${targetDbOf(this.options, db)})`;
      throw new UserError(`cannot select database ${which}: ${(err as Error).message}`);
    }
  }

  private recordOutcomes(db: number, outcomes: KeyOutcome[]): void {
    for (const o of outcomes) this.log.add(db, o.key, o.diffs);
  }

  /** Both directions over one database. */
  private async scanDb(db: number): Promise<void> {
    await this.selectDb(db);
    const ctx = this.context();
    const match = this.options.match;
    const forward = this.pipelined(
      scanPages(this.conns.sourceScan, match, this.opts.batchSize),
      FORWARD_IN_FLIGHT,
      async (keys) => {
        const outcomes = await evaluateKeys(ctx, keys);
        this.keysChecked += keys.length;
        this.recordOutcomes(db, outcomes);
        this.emitProgress('scan');
      },
    );
    const reverse = this.pipelined(
      scanPages(this.conns.targetScan, match, this.opts.batchSize),
      REVERSE_IN_FLIGHT,
      async (keys) => {
        const extra = await this.withoutExpiring(await keysMissingOn(this.conns.source, keys));
        for (const key of extra) {
          this.keysChecked++;
          this.log.add(db, key, [{ cls: 'extra', detail: 'only on the target' }]);
        }
      },
    );
    await Promise.all([forward, reverse]);
    this.logSwitch();
  }

  /**
   * Keys found only on the target, minus those gone meanwhile or about to expire there (within
   * the TTL tolerance the source may simply have expired them first).
   */
  private async withoutExpiring(keys: Buffer[]): Promise<Buffer[]> {
    if (keys.length === 0) return keys;
    const pttls = await this.conns.target.exec(keys.map((k) => ['PTTL', k]));
    return keys.filter((_, i) => {
      const pttl = pttls[i];
      if (typeof pttl !== 'number') return true;
      return pttl === -1 || pttl > this.opts.ttlToleranceMs;
    });
  }

  /** Logs (once) why DUMP payloads or size checks were given up. */
  private logSwitch(): void {
    if (!this.state.switchedBecause) return;
    this.logger?.info({ reason: this.state.switchedBecause }, 'verify: changed how values are compared');
    this.state.switchedBecause = undefined;
  }

  /** Runs `work` on each page with up to `inFlight` pages at once; the first failure stops it. */
  private async pipelined(
    pages: AsyncIterable<Buffer[]>,
    inFlight: number,
    work: (keys: Buffer[]) => Promise<void>,
  ): Promise<void> {
    const running = new Set<Promise<void>>();
    let failure: { err: unknown } | undefined;
    const check = () => {
      if (failure) throw failure.err;
      this.options.signal?.throwIfAborted();
    };
    try {
      for await (const keys of pages) {
        check();
        if (keys.length === 0) continue;
        const p: Promise<void> = work(keys)
          .catch((err: unknown) => {
            failure ??= { err };
          })
          .finally(() => running.delete(p));
        running.add(p);
        if (running.size >= inFlight) await Promise.race(running);
      }
      await Promise.all(running);
      check();
    } finally {
      await Promise.allSettled(running);
    }
  }

  /** --sample: random keys picked on both sides, spread over the databases by their key counts. */
  private async samplePass(dbs: DbCounts[]): Promise<void> {
    const wanted = this.options.sample!;
    const weights = dbs.map((d) => d.sourceKeys + d.targetKeys);
    const total = weights.reduce((a, b) => a + b, 0);
    if (total === 0 || wanted === 0) return;
    let left = wanted;
    for (let i = 0; i < dbs.length; i++) {
      const isLast = i === dbs.length - 1;
      const share = isLast ? left : Math.min(left, Math.round((wanted * weights[i]!) / total));
      left -= share;
      if (share === 0 || weights[i] === 0) continue;
      const db = dbs[i]!.db;
      await this.selectDb(db);
      const fromSource = Math.ceil(share / 2);
      const keys = await this.pickRandom(fromSource, share - fromSource);
      const ctx = this.context();
      for (let at = 0; at < keys.length; at += this.opts.batchSize) {
        this.options.signal?.throwIfAborted();
        const batch = keys.slice(at, at + this.opts.batchSize);
        this.recordOutcomes(db, await evaluateKeys(ctx, batch));
        this.keysChecked += batch.length;
        this.emitProgress('scan');
      }
      this.logSwitch();
    }
  }

  private async pickRandom(fromSource: number, fromTarget: number): Promise<Buffer[]> {
    const [a, b] = await Promise.all([
      randomKeys(this.conns.source, this.conns.sourceScan, fromSource, this.options.match),
      randomKeys(this.conns.target, this.conns.targetScan, fromTarget, this.options.match),
    ]);
    const seen = new Map<string, Buffer>();
    for (const k of [...a, ...b]) seen.set(k.toString('latin1'), Buffer.from(k));
    return [...seen.values()];
  }

  /** Re-reads differing keys until they agree or the rounds are used up. Returns rounds run. */
  private async recheck(): Promise<number> {
    let rounds = 0;
    while (rounds < this.opts.recheckRounds && this.log.size > 0) {
      rounds++;
      this.emitProgress('recheck', true, rounds);
      await sleepOrAbort(this.opts.recheckDelayMs, this.options.signal);
      const ctx = this.context();
      for (const [db, candidates] of this.log.byDb()) {
        await this.selectDb(db);
        for (let at = 0; at < candidates.length; at += this.opts.batchSize) {
          this.options.signal?.throwIfAborted();
          const batch = candidates.slice(at, at + this.opts.batchSize);
          const outcomes = await evaluateKeys(
            ctx,
            batch.map((c) => c.key),
          );
          const still = new Map(outcomes.map((o) => [o.index, o.diffs]));
          batch.forEach((c, i) => {
            const diffs = still.get(i) ?? [];
            if (diffs.length === 0) this.cleared++;
            this.log.update(c, diffs);
          });
        }
      }
    }
    return rounds;
  }

  private emitProgress(phase: VerifyProgress['phase'], force = false, recheckRound?: number): void {
    const onProgress = this.options.onProgress;
    if (!onProgress) return;
    const now = Date.now();
    if (!force && now - this.lastProgress < PROGRESS_INTERVAL_MS) return;
    this.lastProgress = now;
    const elapsedMs = now - this.started;
    const keysPerSecond = Math.round((this.keysChecked * 1000) / Math.max(1, elapsedMs));
    const left = Math.max(0, this.totalKeys - this.keysChecked);
    const progress: VerifyProgress = {
      phase,
      db: phase === 'done' ? null : this.currentDb,
      keysChecked: this.keysChecked,
      totalKeys: this.totalKeys,
      differences: this.log.size + this.log.differentKeys,
      keysPerSecond,
      etaSeconds:
        phase === 'scan' && keysPerSecond > 0
          ? Math.round(left / keysPerSecond)
          : phase === 'done'
            ? 0
            : null,
      elapsedMs,
    };
    if (recheckRound !== undefined) {
      progress.recheckRound = recheckRound;
      progress.recheckKeys = this.log.size;
    }
    try {
      onProgress(progress);
    } catch {
      // A failing progress callback must not fail the verification.
    }
  }
}

function validate(o: typeof DEFAULTS, options: VerifyOptions): void {
  const check = (name: string, value: number, min: number) => {
    if (!Number.isInteger(value) || value < min)
      throw new UserError(`${name} must be an integer >= ${min} (got ${value})`);
  };
  check('ttlToleranceMs', o.ttlToleranceMs, 0);
  check('recheckRounds', o.recheckRounds, 0);
  check('recheckDelayMs', o.recheckDelayMs, 0);
  check('maxSamplesPerClass', o.maxSamplesPerClass, 0);
  check('batchSize', o.batchSize, 1);
  check('chunkSize', o.chunkSize, 2);
  check('maxRecheckKeys', o.maxRecheckKeys, 0);
  check('bigKeyThresholdBytes', o.bigKeyThresholdBytes, 0);
  if (options.sample !== undefined) check('sample', options.sample, 1);
  checkMapping(options);
  if (options.dbs !== 'all') {
    if (options.dbs.length === 0) throw new UserError('no database to verify');
    for (const db of options.dbs) check('db', db, 0);
  }
}

async function openConnections(source: Endpoint, target: Endpoint): Promise<Connections> {
  // allSettled, not all: when one fails, the others must still be closed once they open.
  const results = await Promise.allSettled([
    RespConnection.open(source, { role: 'verify-source' }),
    RespConnection.open(source, { role: 'verify-source-scan' }),
    RespConnection.open(target, { role: 'verify-target' }),
    RespConnection.open(target, { role: 'verify-target-scan' }),
  ]);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    for (const r of results) if (r.status === 'fulfilled') r.value.destroy();
    throw failed.reason;
  }
  const [s, ss, t, ts] = results.map((r) => (r as PromiseFulfilledResult<RespConnection>).value);
  return { source: s!, sourceScan: ss!, target: t!, targetScan: ts! };
}

/** INFO keyspace -> db -> keys/expires. */
async function keyspace(conn: RespConnection): Promise<Map<number, { keys: number; expires: number }>> {
  const [reply] = await conn.exec([['INFO', 'keyspace']]);
  if (reply instanceof RespError)
    throw new UserError(`${conn.where}: INFO keyspace failed: ${reply.message}`);
  const text = Buffer.isBuffer(reply) ? reply.toString() : String(reply);
  const out = new Map<number, { keys: number; expires: number }>();
  for (const m of text.matchAll(/^db(\d+):keys=(\d+),expires=(\d+)/gm)) {
    out.set(Number(m[1]), { keys: Number(m[2]), expires: Number(m[3]) });
  }
  return out;
}

function scanCommand(cursor: string, match: string | undefined, count: number): RespArg[] {
  return match === undefined
    ? ['SCAN', cursor, 'COUNT', count]
    : ['SCAN', cursor, 'MATCH', match, 'COUNT', count];
}

function parseScan(reply: RespReply | undefined, where: string): { cursor: string; keys: Buffer[] } {
  if (reply instanceof RespError) throw new UserError(`SCAN on ${where} failed: ${reply.message}`);
  if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1])) {
    throw new Error(`SCAN on ${where}: unexpected reply`);
  }
  const cursor = Buffer.isBuffer(reply[0]) ? reply[0].toString() : String(reply[0]);
  return { cursor, keys: reply[1] as Buffer[] };
}

/** SCAN pages of the selected db; the next page is requested while the current one is handled. */
async function* scanPages(
  conn: RespConnection,
  match: string | undefined,
  count: number,
): AsyncGenerator<Buffer[]> {
  let next = conn.exec([scanCommand('0', match, count)]);
  for (;;) {
    // Handled here so an abandoned prefetch never becomes an unhandled rejection.
    next.catch(() => {});
    const [reply] = await next;
    const page = parseScan(reply, conn.where);
    if (page.cursor !== '0') next = conn.exec([scanCommand(page.cursor, match, count)]);
    yield page.keys;
    if (page.cursor === '0') return;
  }
}

/** Keys of this page that do not exist on `conn`: one multi-key EXISTS, per-key only if some are missing. */
async function keysMissingOn(conn: RespConnection, keys: Buffer[]): Promise<Buffer[]> {
  const [count] = await conn.exec([['EXISTS', ...keys]]);
  if (count instanceof RespError) throw new UserError(`EXISTS on ${conn.where} failed: ${count.message}`);
  // EXISTS counts a key once per mention, so the page is complete exactly when count = length.
  if (count === keys.length) return [];
  const each = await conn.exec(keys.map((k) => ['EXISTS', k]));
  return keys.filter((_, i) => each[i] === 0);
}

/** n random keys (with repeats removed): RANDOMKEY, or SCAN MATCH from a random cursor. */
async function randomKeys(
  conn: RespConnection,
  scanConn: RespConnection,
  n: number,
  match: string | undefined,
): Promise<Buffer[]> {
  if (n <= 0) return [];
  if (match === undefined) {
    const replies = await conn.exec(Array.from({ length: n }, () => ['RANDOMKEY']));
    return replies.filter((r): r is Buffer => Buffer.isBuffer(r));
  }
  // RANDOMKEY ignores patterns: scan from a random point instead, wrapping around once.
  const out = new Map<string, Buffer>();
  let cursor = String(Math.floor(Math.random() * 0x7fff_ffff));
  let wrapped = false;
  while (out.size < n) {
    const [reply] = await scanConn.exec([scanCommand(cursor, match, 1000)]);
    const page = parseScan(reply, scanConn.where);
    for (const k of page.keys) {
      if (out.size < n) out.set(k.toString('latin1'), k);
    }
    cursor = page.cursor;
    if (cursor === '0') {
      if (wrapped) break;
      wrapped = true;
    }
  }
  return [...out.values()];
}
