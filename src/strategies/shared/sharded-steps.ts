// The bulk copy and the verify of a migration with a Redis Cluster on either side: the step runs
// as one job per source shard (a flow under the step, ./shard-flow.ts), which any worker takes;
// the step's own job waits for them under its lease, shows each shard's progress, and sums their
// reports. Between standalone servers the step runs as before (the executor it wraps).
import { keyHolders } from '../../engine/cluster/nodes.js';
import { listSourceShards, type SourceShard } from '../../engine/cluster/shards.js';
import { UnrecoverableStepError } from '../../runbook/errors.js';
import type { ShardProgressLine, StepProgress } from '../../runbook/model.js';
import { shardLabel } from '../../runbook/progress.js';
import type { StepContext, StepExecutor, StepOutcome } from '../../runbook/step-executor.js';
import type { ShardFlowProvider, ShardOutcome, ShardResult, ShardTask } from './shard-flow.js';
import { prepareShardedTarget } from './shard-target.js';

/** The step's checkpoint while it runs per shard: the shards it was split into, once. */
interface ShardedCheckpoint {
  sharded: true;
  shards: SourceShard[];
  /** The non-empty target policy was applied (a takeover must not refuse its own partial copy). */
  prepared: boolean;
}

const isSharded = (cp: unknown): cp is ShardedCheckpoint =>
  !!cp && typeof cp === 'object' && (cp as { sharded?: unknown }).sharded === true;

/** Shard lines kept in a progress update (the card shows fewer; the totals cover them all). */
const PROGRESS_LINES = 50;

/** The shards of this step: from its checkpoint, else listed now (undefined: no cluster on either side). */
async function shardsOf(ctx: StepContext): Promise<ShardedCheckpoint | undefined> {
  if (isSharded(ctx.checkpoint)) return ctx.checkpoint;
  const { source, target } = ctx.endpoints;
  const replica = ctx.step.params.readFromReplica;
  const [shards, targetHolders] = await Promise.all([
    listSourceShards(source, {
      ...(replica === true || typeof replica === 'string' ? { readFromReplica: replica } : {}),
    }),
    keyHolders(target),
  ]);
  const cluster = shards.some((s) => s.id !== 'standalone') || targetHolders.cluster;
  if (!cluster) return undefined;
  const cp: ShardedCheckpoint = { sharded: true, shards, prepared: false };
  await ctx.saveCheckpoint(cp);
  return cp;
}

const describeShard = (s: SourceShard): string =>
  `${shardLabel({ shard: s.id, node: s.readFrom })}${s.slots.length ? `, slots ${s.slots.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',')}` : ''}`;

/** The step's progress: totals over the shards, and a line per shard. */
export function shardedProgress(
  task: ShardTask,
  lines: ShardProgressLine[],
  startedAt: number,
): StepProgress {
  const keysDone = lines.reduce((n, l) => n + l.keysDone, 0);
  const totals = lines.map((l) => l.keysTotal);
  const known = totals.every((t) => t !== null);
  const keysTotal = known ? totals.reduce((n: number, t) => n + (t ?? 0), 0) : undefined;
  const seconds = Math.max((Date.now() - startedAt) / 1000, 0.001);
  const keysPerSecond = Math.round(keysDone / seconds);
  const done = lines.filter((l) => l.state === 'done').length;
  const out: StepProgress = {
    phase: task === 'verify' ? 'compare' : 'keys',
    keysDone,
    keysPerSecond,
    message: `${done} of ${lines.length} shards done`,
    shards: lines.slice(0, PROGRESS_LINES),
  };
  if (keysTotal !== undefined) {
    out.keysTotal = keysTotal;
    out.etaSeconds =
      keysPerSecond > 0 ? Math.max(0, Math.round((keysTotal - keysDone) / keysPerSecond)) : null;
  }
  return out;
}

/** Runs the step's shard jobs and returns every shard's result; a failed shard fails the step, named. */
async function runShards(
  ctx: StepContext,
  flows: ShardFlowProvider,
  task: ShardTask,
  shards: SourceShard[],
): Promise<ShardResult[]> {
  const flow = flows();
  if (!flow) {
    throw new UnrecoverableStepError(
      'this step runs one job per cluster shard, and this process has no shard queue (run it with `migration-buddy worker`)',
    );
  }
  const startedAt = Date.now();
  const outcomes: ShardOutcome[] = await flow.run(
    { migrationId: ctx.migration.id, stepId: ctx.step.id, attempt: ctx.step.attempt },
    task,
    shards,
    {
      signal: ctx.signal,
      onProgress: (lines) => ctx.reportProgress(shardedProgress(task, lines, startedAt)),
    },
  );
  const byId = new Map(shards.map((s) => [s.id, s]));
  const failed = outcomes.filter((o) => o.state === 'failed');
  const first = failed.find((o) => !/^not finished/.test(o.error)) ?? failed[0];
  if (first && first.state === 'failed') {
    const others = failed.length > 1 ? ` (${failed.length - 1} other shard(s) did not finish either)` : '';
    const done = outcomes.length - failed.length;
    throw new UnrecoverableStepError(
      `shard ${describeShard(byId.get(first.shard)!)} failed: ${first.error}${others}. ` +
        `Fix what it names, then Retry the step: the ${done} shard(s) that finished are not run again, ` +
        'the others resume from their checkpoints',
    );
  }
  return outcomes.map((o) => (o as Extract<ShardOutcome, { state: 'done' }>).result);
}

const perShard = (results: ShardResult[]) =>
  results.map((r) => ({
    shard: r.shard,
    node: r.node,
    keys: r.keys,
    worker: r.worker,
    resumed: r.resumed,
    durationMs: r.durationMs,
    ...(r.task === 'copy'
      ? { vanished: r.vanished, keysFailed: r.keysFailed, bigKeys: r.bigKeys, byType: r.byType }
      : { identical: r.identical, differences: r.differences }),
  }));

const sum = (results: ShardResult[], f: (r: ShardResult) => number) => results.reduce((n, r) => n + f(r), 0);

export function summarizeCopy(results: ShardResult[]): StepOutcome {
  const keysCopied = sum(results, (r) => r.keys);
  const keysFailed = sum(results, (r) => r.keysFailed);
  const workers = new Set(results.map((r) => r.worker));
  const result = {
    keysCopied,
    keysSkipped: sum(results, (r) => r.vanished),
    keysFailed,
    keysByTypeFallback: sum(results, (r) => r.byType),
    bigKeysChunked: sum(results, (r) => r.bigKeys),
    errors: results.flatMap((r) => r.notes.map((n) => ({ shard: r.shard, ...n }))).slice(0, 20),
    shards: perShard(results),
  };
  const extra = [
    result.keysSkipped ? `${result.keysSkipped} vanished before they could be copied` : '',
    keysFailed ? `${keysFailed} failed` : '',
    result.keysByTypeFallback ? `${result.keysByTypeFallback} copied type by type` : '',
  ].filter(Boolean);
  return {
    summary:
      `copied ${keysCopied} keys from ${results.length} shard(s) on ${workers.size} worker(s)` +
      (extra.length ? `; ${extra.join('; ')}` : ''),
    result,
    verdict: keysFailed > 0 ? 'warning' : 'ok',
  };
}

export function summarizeVerify(results: ShardResult[]): StepOutcome {
  const keysChecked = sum(results, (r) => r.keys);
  const differing = results.filter((r) => !r.identical);
  const differences = sum(results, (r) => r.differences);
  const samples = differing.flatMap((r) => r.notes.map((n) => ({ shard: r.shard, node: r.node, ...n })));
  const result = {
    identical: differing.length === 0,
    keysChecked,
    differences: differences,
    samples: samples.slice(0, 20),
    shards: perShard(results),
  };
  if (differing.length === 0) {
    return {
      summary: `identical: ${keysChecked} keys checked over ${results.length} shard(s)`,
      result,
      verdict: 'ok',
    };
  }
  const eg = samples[0];
  const where = differing.map((r) => `${shardLabel(r)}: ${r.differences}`).join(', ');
  return {
    summary:
      `verification failed: ${differences} difference(s) (${where}); ${keysChecked} keys checked` +
      (eg
        ? `; e.g. shard ${shardLabel(eg)} key ${eg.key} (target node ${eg.targetNode ?? '?'}): ${eg.detail}`
        : ''),
    result,
    verdict: 'failed',
  };
}

/**
 * bulk_copy: per shard when a cluster is on either side, else `standalone`. `migrate`: each source
 * primary sends MIGRATE (the bulk pass; a final pass under the write pause stays `standalone`'s).
 */
export function shardedBulkCopy(
  standalone: StepExecutor,
  flows: ShardFlowProvider,
  task: 'copy' | 'migrate' = 'copy',
): StepExecutor {
  return {
    async run(ctx) {
      if (task === 'migrate' && (ctx.step.params.pass === 'final' || ctx.step.params.copy !== true)) {
        return standalone.run(ctx);
      }
      const plan = await shardsOf(ctx);
      if (!plan) return standalone.run(ctx);
      if (!plan.prepared) {
        await prepareShardedTarget(ctx.endpoints, ctx.step.params, ctx.logger);
        plan.prepared = true;
        await ctx.saveCheckpoint(plan);
      }
      const outcome = summarizeCopy(await runShards(ctx, flows, task, plan.shards));
      return task === 'migrate'
        ? { ...outcome, result: { method: 'migrate', pass: 'bulk', ...outcome.result } }
        : outcome;
    },
    abortState(ctx) {
      if (!isSharded(ctx.checkpoint)) return standalone.abortState?.(ctx) ?? 'the copy was stopped part way';
      return `source unchanged; the target holds a partial copy of ${ctx.checkpoint.shards.length} shard(s), each resumable from its own checkpoint`;
    },
  };
}

/** verify: per shard when a cluster is on either side, else `standalone`. */
export function shardedVerify(standalone: StepExecutor, flows: ShardFlowProvider): StepExecutor {
  return {
    async run(ctx) {
      const plan = await shardsOf(ctx);
      if (!plan) return standalone.run(ctx);
      const outcome = summarizeVerify(await runShards(ctx, flows, 'verify', plan.shards));
      // A report cut short by a stop is not a verdict.
      ctx.signal.throwIfAborted();
      await ctx.audit('verification', outcome.summary, outcome.result);
      return outcome;
    },
    abortState: () => 'verification only reads, so it changed nothing on source or target',
  };
}
