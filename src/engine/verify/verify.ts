// Bidirectional verification of a target against its source (see types.ts for the contract).
//
// Per database, two passes run at the same time:
//   forward: SCAN the source; each page is compared on both servers (evaluate.ts);
//   reverse: SCAN the target; one multi-key EXISTS on the source per page finds keys that exist
//            only on the target (per-key EXISTS only for pages where some are missing).
// Keys that differ are not reported at once: they are re-read recheckRounds times, recheckDelayMs
// apart, and only those still differing at the end count. Writes in flight during a live sync
// converge, and a key that expired (or was deleted) on the source in between is simply fine.
// This file is the run: its passes, re-checks and report. Where keys come from: scan-pages.ts;
// how a page is compared: evaluate.ts; connections and databases: connections.ts.
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
import { targetDbOf } from '../db-mapping.js';
import { respInfo } from '../identity/index.js';
import { RespConnectionError } from '../resp/reply.js';
import {
  type Connections,
  closeConnections,
  databasesToCheck,
  openConnections,
  selectDb,
} from './connections.js';
import { DifferenceLog } from './difference-log.js';
import { type CompareState, type EvaluateContext, evaluateKeys, type KeyOutcome } from './evaluate.js';
import { decideExpiryClock, describeExpiryClock, type ExpiryClock } from './expiry.js';
import { ProgressReporter } from './progress.js';
import { forEachPage, keysMissingOn, randomKeys, scanPages } from './scan-pages.js';
import { type VerifySettings, verifySettings } from './settings.js';
import type { DbCounts, VerifyOptions, VerifyReport } from './types.js';

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
  private readonly opts: VerifySettings;
  private readonly log: DifferenceLog;
  private readonly state: CompareState;
  private readonly started = Date.now();
  private readonly logger: Logger | undefined;
  private conns!: Connections;
  private keysChecked = 0;
  private totalKeys = 0;
  private currentDb: number | null = null;
  private readonly progress: ProgressReporter;
  /** Keys that differed at first and were fine at a re-check. */
  private cleared = 0;
  private sizeProbe: SizeProbeDecision = { perKey: false, reason: 'not decided yet' };
  private expiry: ExpiryClock = { kind: 'relative', reason: 'not decided yet' };

  constructor(
    private readonly source: Endpoint,
    private readonly target: Endpoint,
    private readonly options: VerifyOptions,
  ) {
    this.opts = verifySettings(options);
    this.logger = options.logger;
    this.log = new DifferenceLog(this.opts.maxRecheckKeys, this.opts.maxSamplesPerClass);
    this.progress = new ProgressReporter(options.onProgress, this.started, () => ({
      db: this.currentDb,
      keysChecked: this.keysChecked,
      totalKeys: this.totalKeys,
      candidates: this.log.size,
      differentKeys: this.log.differentKeys,
    }));
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
      const dbs = await databasesToCheck(this.conns, this.options);
      const sampled = this.options.sample !== undefined;
      this.totalKeys = sampled ? this.options.sample! : dbs.reduce((n, d) => n + d.sourceKeys, 0);
      if (sampled) await this.samplePass(dbs);
      else for (const d of dbs) await this.scanDb(d);
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
      this.progress.report('done', true);
      return report;
    } finally {
      closeConnections(this.conns);
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

  private async selectDb(db: number): Promise<void> {
    this.currentDb = db;
    await selectDb(this.conns, this.options, db);
  }

  private recordOutcomes(db: number, outcomes: KeyOutcome[]): void {
    for (const o of outcomes) this.log.add(db, o.key, o.diffs);
  }

  /** Both directions over one database. */
  private async scanDb(counts: DbCounts): Promise<void> {
    const { db } = counts;
    await this.selectDb(db);
    const ctx = this.context();
    // No TTL on either side when the run began: expiries are read only once one shows up.
    if (counts.sourceExpires === 0 && counts.targetExpires === 0)
      ctx.noExpiringKeys = { sourceDb: db, targetDb: counts.targetDb ?? db };
    const match = this.options.match;
    const { signal } = this.options;
    const forward = forEachPage(
      scanPages(this.conns.sourceScan, match, this.opts.batchSize),
      FORWARD_IN_FLIGHT,
      signal,
      async (keys) => {
        const outcomes = await evaluateKeys(ctx, keys);
        this.keysChecked += keys.length;
        this.recordOutcomes(db, outcomes);
        this.progress.report('scan');
      },
    );
    const reverse = forEachPage(
      scanPages(this.conns.targetScan, match, this.opts.batchSize),
      REVERSE_IN_FLIGHT,
      signal,
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
        this.progress.report('scan');
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
      this.progress.report('recheck', true, rounds);
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
}
