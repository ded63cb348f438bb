// verify / post_verify with a Redis Cluster on either side, in one job: the comparison across
// topologies (engine/cluster/verify-across.ts: each source primary scanned on its own, each key
// read where its slot lives on the other side, then the target's extras), judged as the one-server
// verify is. The final check asks the record of the apps' writes after the repoint about every
// differing key it lists: those are not counted (a difference the record cannot explain stands).
// The shard jobs (sharded-steps.ts) run the verify step per shard when a queue is there.
import { type AcrossDifference, verifyAcrossTopologies } from '../../engine/cluster/verify-across.js';
import { targetDbOf } from '../../engine/db-mapping.js';
import type { VerifyOptions } from '../../engine/verify/index.js';
import type { StepContext, StepOutcome } from '../../runbook/step-executor.js';
import { describeAppWrites, type FinalCheckAppWrites } from '../app-writes/index.js';

export async function verifyAcrossStep(
  ctx: StepContext,
  options: Omit<VerifyOptions, 'signal'>,
  appWrites?: FinalCheckAppWrites,
): Promise<StepOutcome> {
  const sourceDb = options.dbs === 'all' ? 0 : (options.dbs[0] ?? 0);
  const report = await verifyAcrossTopologies(ctx.endpoints.source, ctx.endpoints.target, {
    sourceDb,
    targetDb: targetDbOf(options, sourceDb),
    ...(options.match ? { match: options.match } : {}),
    ...(options.ttlToleranceMs !== undefined ? { ttlToleranceMs: options.ttlToleranceMs } : {}),
    onProgress: (compared) => ctx.reportProgress({ phase: 'compare', keysDone: compared }),
  });
  ctx.signal.throwIfAborted();
  const total = Object.values(report.counts).reduce((n, c) => n + c, 0);
  let standing: AcrossDifference[] = report.differences;
  let explained: AcrossDifference[] = [];
  const outcome = appWrites ? await appWrites.conclude() : undefined;
  if (appWrites && outcome?.complete && standing.length > 0) {
    const flags = await appWrites.explain(standing.map((d) => ({ db: 0, key: d.key })));
    explained = standing.filter((_, i) => flags[i]);
    standing = standing.filter((_, i) => !flags[i]);
  }
  // Differences past the listed ones were never asked about: they stand.
  const counted = total - explained.length;
  const compared = Object.values(report.compared).reduce((n, c) => n + c, 0);
  const apps = outcome ? describeAppWrites(outcome, explained.length, counted > 0) : '';
  const checked = `${compared} keys checked across ${Object.keys(report.compared).length} source node(s)${apps ? `; ${apps}` : ''}`;
  const byKind = new Map<string, number>();
  for (const d of standing) byKind.set(d.kind, (byKind.get(d.kind) ?? 0) + 1);
  const unlisted = total - report.differences.length;
  const result = {
    identical: counted === 0,
    keysChecked: compared,
    comparedPerSourceNode: report.compared,
    counts: report.counts,
    differences: standing.slice(0, 20).map(describe),
    ...(outcome ? { appWrites: { ...outcome, explained: explained.length } } : {}),
  };
  await ctx.audit(
    'verification',
    counted === 0 ? `identical: ${checked}` : `differences: ${counted}`,
    result,
  );
  if (counted === 0) return { summary: `identical: ${checked}`, result, verdict: 'ok' };
  const what =
    [...byKind].map(([k, n]) => `${n} ${k}`).join(', ') + (unlisted > 0 ? `, ${unlisted} more` : '');
  const eg = standing[0] ? `; e.g. ${describe(standing[0]).text}` : '';
  return { summary: `verification failed: ${what}; ${checked}${eg}`, result, verdict: 'failed' };
}

function describe(d: AcrossDifference): { kind: string; key: string; text: string } {
  const key = d.key.toString('utf8');
  return {
    kind: d.kind,
    key,
    text: `key ${key} (source node ${d.sourceNode}, target node ${d.targetNode}): ${d.detail}`,
  };
}
