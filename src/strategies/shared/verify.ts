// verify / post_verify: compare target with source (the verification engine), judge the report
// against the thresholds the plan carries, and put a summary in the audit trail. Differences fail
// the step at once: retrying does not make a copy correct. The final check (post_verify) sets
// aside the keys the apps wrote on the target after the repoint (../app-writes).

import { eitherIsCluster } from '../../engine/cluster/nodes.js';
import { remapFromParams } from '../../engine/db-mapping.js';
import { clientInfo, IdentityGuard, readIdentity, ServerChangedError } from '../../engine/identity/index.js';
import { type VerifyOptions, type VerifyReport, verify } from '../../engine/verify/index.js';
import { connect } from '../../redis/connect.js';
import { describeEndpoint } from '../../redis/endpoint.js';
import { UnrecoverableStepError } from '../../runbook/errors.js';
import type { StepContext, StepExecutor, StepOutcome } from '../../runbook/step-executor.js';
import {
  type AppWritesOutcome,
  type AppWritesProvider,
  describeAppWrites,
  FinalCheckAppWrites,
} from '../app-writes/index.js';
import { migrationSourceIdentity } from './source-identity.js';
import { verifyAcrossStep } from './verify-across.js';

/** Verification options from the step's parameters, as planned and approved. */
export function verifyOptionsFromParams(params: Record<string, unknown>): Omit<VerifyOptions, 'signal'> {
  const options: Omit<VerifyOptions, 'signal'> = { dbs: (params.dbs as VerifyOptions['dbs']) ?? 'all' };
  const remap = remapFromParams(params);
  if (remap) options.remap = remap;
  if (typeof params.match === 'string') options.match = params.match;
  if (params.compare === 'counts-and-sample' && typeof params.sampleSize === 'number') {
    options.sample = params.sampleSize;
  }
  if (typeof params.ttlToleranceMs === 'number') options.ttlToleranceMs = params.ttlToleranceMs;
  return options;
}

/**
 * Databases whose key counts (keys minus expiring keys) are further apart than the tolerance, plus
 * `allowance` keys (as many as the apps wrote after the repoint: each moves a count by one at most).
 */
export function countMismatches(report: VerifyReport, tolerancePercent: number, allowance = 0): string[] {
  const out: string[] = [];
  for (const d of report.dbs) {
    const src = d.sourceKeys - (d.sourceExpires ?? 0);
    const dst = d.targetKeys - (d.targetExpires ?? 0);
    const allowed = (Math.max(src, dst) * tolerancePercent) / 100 + allowance;
    if (Math.abs(src - dst) > allowed)
      out.push(`db ${d.db}: ${src} keys on the source, ${dst} on the target`);
  }
  return out;
}

/** The verdict and the sentence for people; `appWrites` for the final check (after the repoint). */
export function judge(
  report: VerifyReport,
  tolerancePercent: number,
  appWrites?: AppWritesOutcome,
): StepOutcome {
  const classes = Object.entries(report.differences).filter(([, v]) => v.count > 0);
  const allowance = appWrites?.complete ? appWrites.recordedKeys : 0;
  const counts = countMismatches(report, tolerancePercent, allowance);
  const explained = report.explained?.count ?? 0;
  const apps = appWrites ? describeAppWrites(appWrites, explained, classes.length + counts.length > 0) : '';
  const checked = `${report.keysChecked} keys checked${report.sampled ? ' (sampled)' : ''}${apps ? `; ${apps}` : ''}`;
  const result = {
    identical: report.identical,
    keysChecked: report.keysChecked,
    sampled: report.sampled,
    comparedBy: report.comparedBy,
    dbs: report.dbs,
    differences: Object.fromEntries(
      classes.map(([k, v]) => [k, { count: v.count, samples: v.samples.slice(0, 5) }]),
    ),
    countMismatches: counts,
    durationMs: report.durationMs,
    ...(appWrites
      ? {
          appWrites: {
            ...appWrites,
            explained,
            samples: report.explained?.samples.slice(0, 5) ?? [],
          },
        }
      : {}),
  };
  if (classes.length === 0 && counts.length === 0) {
    return { summary: `identical: ${checked}`, result, verdict: 'ok' };
  }
  const what = [
    ...classes.map(([k, v]) => `${v.count} ${k}`),
    ...counts.map((c) => `count differs (${c})`),
  ].join(', ');
  const example = classes[0]?.[1].samples[0];
  const eg = example ? `; e.g. db ${example.db} key ${example.key}: ${example.detail}` : '';
  return { summary: `verification failed: ${what}; ${checked}${eg}`, result, verdict: 'failed' };
}

const VERIFY_CONSEQUENCE = 'no verdict was given (verification only reads: nothing was changed)';

/**
 * Runs `body` between two looks at the source: it must be the source the migration started with
 * (role and run id, when the bulk copy recorded it) before, and the same server after, or the
 * verdict would be about some other data.
 */
async function guardedBySource<T>(ctx: StepContext, body: () => Promise<T>): Promise<T> {
  const source = ctx.endpoints.source;
  const conn = await connect(source, { role: 'verify-guard' });
  try {
    const dbs = (ctx.step.params.dbs as 'all' | number[] | undefined) ?? 'all';
    const info = clientInfo(conn);
    const where = describeEndpoint(source);
    const recorded = migrationSourceIdentity(ctx.migration);
    if (recorded) {
      const guard = new IdentityGuard({ side: 'source', where, baseline: recorded, dbs });
      await guard.check(
        info,
        'since the migration started (seen before this verification)',
        VERIFY_CONSEQUENCE,
        false,
      );
    }
    const before = new IdentityGuard({ side: 'source', where, baseline: await readIdentity(info, dbs), dbs });
    const result = await body();
    await before.check(info, 'during the verification', VERIFY_CONSEQUENCE);
    return result;
  } catch (err) {
    if (err instanceof ServerChangedError) throw new UnrecoverableStepError(err.message);
    throw err;
  } finally {
    conn.disconnect();
  }
}

/** verify; with `final`, the final check (post_verify), which knows the apps' writes after the repoint. */
function verifyStep(final?: { appWrites: AppWritesProvider | undefined }): StepExecutor {
  return {
    async run(ctx) {
      const params = ctx.step.params;
      const appWrites = final ? new FinalCheckAppWrites(ctx, final.appWrites) : undefined;
      if (await eitherIsCluster(ctx.endpoints.source, ctx.endpoints.target)) {
        return verifyAcrossStep(ctx, verifyOptionsFromParams(params), appWrites);
      }
      const report = await guardedBySource(ctx, () =>
        verify(ctx.endpoints.source, ctx.endpoints.target, {
          ...verifyOptionsFromParams(params),
          ...(appWrites ? { explain: appWrites.explain } : {}),
          signal: ctx.signal,
          logger: ctx.logger,
          onProgress: (p) =>
            ctx.reportProgress({
              phase: p.phase,
              keysDone: p.keysChecked,
              keysTotal: p.totalKeys,
              keysPerSecond: p.keysPerSecond,
              etaSeconds: p.etaSeconds,
            }),
        }),
      );
      // A report cut short by a stop is not a verdict.
      ctx.signal.throwIfAborted();
      const tolerance = typeof params.countTolerancePercent === 'number' ? params.countTolerancePercent : 0;
      const outcome = judge(report, tolerance, appWrites ? await appWrites.conclude() : undefined);
      await ctx.audit('verification', outcome.summary, outcome.result);
      return outcome;
    },
    abortState: () => 'verification only reads, so it changed nothing on source or target',
  };
}

export const verifyExecutor: StepExecutor = verifyStep();

/** post_verify: the final check, with the record of the apps' writes after the repoint when this process has one. */
export function finalCheckExecutor(appWrites?: AppWritesProvider): StepExecutor {
  return verifyStep({ appWrites });
}
