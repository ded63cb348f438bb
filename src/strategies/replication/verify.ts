// verify / post_verify of the replication strategy: lag 0 (while the target still replicates), key
// counts per db (keys minus expiring keys: expiry runs independently and skews raw counts) and a
// sampled value compare in both directions with the verify engine. The final check (post_verify)
// sets aside the keys the apps wrote on the target after the repoint, as every strategy's does
// (../app-writes); any other difference fails it.

import {
  DEFAULT_TTL_TOLERANCE_MS,
  DIFFERENCE_CLASSES,
  type VerifyReport,
  verify,
} from '../../engine/verify/index.js';
import { UnrecoverableStepError } from '../../runbook/errors.js';
import type { StepContext, StepOutcome } from '../../runbook/step-executor.js';
import { errorMessage } from '../../util/errors.js';
import { sleep } from '../../util/sleep.js';
import { type AppWritesProvider, describeAppWrites, FinalCheckAppWrites } from '../app-writes/index.js';
import { runGuarded, throwIfStopped } from './guard.js';
import { persistentKeys, type SourceState, type TargetState } from './info.js';
import type { ResolvedReplicationOptions } from './options.js';
import type { LinkSession } from './session.js';

export interface CountCheck {
  db: number;
  source: number;
  target: number;
  /** |source - target| as a percentage of the source count. */
  differencePercent: number;
  ok: boolean;
}

/** `allowance`: keys the counts may differ by beyond the tolerance (as many as the apps wrote after the repoint). */
export function compareCounts(
  source: Pick<SourceState, 'keyspace'>,
  target: Pick<TargetState, 'keyspace'>,
  dbs: readonly number[],
  tolerancePercent: number,
  allowance = 0,
): CountCheck[] {
  return dbs.map((db) => {
    const s = persistentKeys(source.keyspace, db);
    const t = persistentKeys(target.keyspace, db);
    const differencePercent = s === t ? 0 : (Math.abs(s - t) / Math.max(1, s)) * 100;
    const ok = Math.abs(s - t) <= (Math.max(1, s) * tolerancePercent) / 100 + allowance;
    return { db, source: s, target: t, differencePercent, ok };
  });
}

/** Waits (bounded) until everything the source wrote has reached the target. */
export async function waitForLagZero(
  session: LinkSession,
  signal: AbortSignal,
  timeoutMs: number,
  pollMs: number,
): Promise<{ lagBytes: number; source: SourceState; target: TargetState; waitedMs: number }> {
  const started = Date.now();
  for (;;) {
    throwIfStopped(signal);
    const read = await session.readBoth();
    const waitedMs = Date.now() - started;
    if (read.lagBytes === 0 || waitedMs >= timeoutMs) return { ...read, waitedMs };
    await sleep(Math.min(pollMs, 100), signal);
  }
}

function differenceSummary(report: VerifyReport): string {
  const parts = DIFFERENCE_CLASSES.filter((c) => report.differences[c].count > 0).map((c) => {
    const d = report.differences[c];
    const sample = d.samples[0]
      ? ` e.g. db${d.samples[0].db} "${d.samples[0].key}": ${d.samples[0].detail}`
      : '';
    return `${d.count} ${c}${sample}`;
  });
  return parts.join('; ');
}

export async function verifyReplication(
  ctx: StepContext,
  options: ResolvedReplicationOptions,
  appWritesProvider?: AppWritesProvider,
): Promise<StepOutcome> {
  const p = ctx.step.params;
  const tolerance = Number(p.countTolerancePercent ?? 1);
  const sampleSize = Number(p.sampleSize ?? 1000);
  const ttlToleranceMs = Number(p.ttlToleranceMs ?? DEFAULT_TTL_TOLERANCE_MS);
  const requireLagZero = p.requireLagZero === true;
  return runGuarded(ctx, async (session) => {
    if (!session.source) throw new UnrecoverableStepError('the source is not reachable from this worker');
    const problems: string[] = [];
    let lag: number | null = null;
    let source: SourceState;
    let target: TargetState;
    if (requireLagZero) {
      ctx.reportProgress({ phase: 'lag', message: 'waiting for replication lag 0' });
      const read = await waitForLagZero(session, ctx.signal, options.lagTimeoutMs, options.pollIntervalMs);
      ({ source, target } = read);
      lag = read.lagBytes;
      if (!target.linkUp) problems.push('the replication link is down');
      if (lag > 0)
        problems.push(`replication lag is ${lag} bytes after ${Math.round(read.waitedMs / 1000)} s`);
    } else {
      ({ source, target } = await session.readBoth());
    }
    const planned = Array.isArray(p.dbs) ? (p.dbs as number[]) : [];
    const dbs = [...new Set([...planned, ...[...source.keyspace, ...target.keyspace].map((d) => d.db)])].sort(
      (a, b) => a - b,
    );
    // The final check: after the repoint the apps write to the target.
    const final = ctx.step.kind === 'post_verify';
    const appWrites = final ? new FinalCheckAppWrites(ctx, appWritesProvider) : undefined;
    let report: VerifyReport | null = null;
    if (dbs.length > 0 && sampleSize > 0) {
      ctx.reportProgress({ phase: 'compare', message: `comparing ${sampleSize} sampled keys` });
      try {
        report = await verify(ctx.endpoints.source, ctx.endpoints.target, {
          dbs,
          sample: sampleSize,
          ttlToleranceMs,
          ...options.verify,
          ...(appWrites ? { explain: appWrites.explain } : {}),
          signal: ctx.signal,
          logger: ctx.logger,
          onProgress: (v) =>
            ctx.reportProgress({
              phase: `compare-${v.phase}`,
              keysDone: v.keysChecked,
              keysTotal: v.totalKeys,
              keysPerSecond: v.keysPerSecond,
              etaSeconds: v.etaSeconds,
            }),
        });
      } catch (err) {
        throwIfStopped(ctx.signal);
        throw new UnrecoverableStepError(`the sampled compare failed: ${errorMessage(err)}`);
      }
      throwIfStopped(ctx.signal);
    }
    // The counts were read before the record stopped, so it covers every write that moved them.
    const apps = appWrites ? await appWrites.conclude() : undefined;
    const counts = compareCounts(source, target, dbs, tolerance, apps?.complete ? apps.recordedKeys : 0);
    for (const c of counts.filter((x) => !x.ok)) {
      problems.push(
        `db${c.db}: ${c.target} persistent keys on the target vs ${c.source} on the source ` +
          `(${c.differencePercent.toFixed(2)}% apart, tolerance ${tolerance}%)`,
      );
    }

    if (report && !report.identical) problems.push(`sampled compare: ${differenceSummary(report)}`);

    const countText = counts.map((c) => `db${c.db} ${c.target}/${c.source}`).join(', ') || 'no keys';
    const sampleText = report ? `${report.keysChecked} sampled keys compared` : 'no sample compared';
    const lagText = lag === null ? '' : `lag ${lag} bytes; `;
    const appsText = apps ? describeAppWrites(apps, report?.explained?.count ?? 0, problems.length > 0) : '';
    const tail = appsText ? `; ${appsText}` : '';
    const summary =
      problems.length === 0
        ? `${lagText}persistent keys per db (target/source) ${countText}; ${sampleText}, all equal${tail}`
        : `verification failed: ${problems.join('; ')}${tail}`;
    const result = {
      lagBytes: lag,
      linkUp: target.linkUp,
      counts,
      sample: report
        ? {
            identical: report.identical,
            keysChecked: report.keysChecked,
            differences: Object.fromEntries(DIFFERENCE_CLASSES.map((c) => [c, report!.differences[c]])),
            comparedBy: report.comparedBy,
          }
        : null,
      problems,
      ...(apps
        ? {
            appWrites: {
              ...apps,
              explained: report?.explained?.count ?? 0,
              samples: report?.explained?.samples.slice(0, 5) ?? [],
            },
          }
        : {}),
    };
    await ctx.audit('verification', summary, result);
    return { summary, result, verdict: problems.length === 0 ? 'ok' : 'failed' };
  });
}
