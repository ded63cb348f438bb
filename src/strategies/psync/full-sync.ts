// bulk_copy of psync: the follower's replica does the full sync (PSYNC, the RDB restored on the
// target), since the same connection then carries the replication stream; this step starts the
// follower and waits until the RDB is on the target. The non-empty-target policy it was approved
// with travels in its parameters to the follower (spec.ts), which hands it to the replica.
import { UnrecoverableStepError } from '../../runbook/errors.js';
import type { StepContext, StepExecutor } from '../../runbook/step-executor.js';
import { ensureFollower, waitForFollower } from '../live-phase/control.js';
import { type LivePhaseProvider, need } from '../live-phase/executors.js';
import type { FollowerStatus } from '../live-phase/types.js';

function progress(ctx: StepContext, s: FollowerStatus): void {
  const p = s.psync;
  ctx.reportProgress({
    phase: p?.phase === 'rdb' ? 'loading the RDB' : s.state,
    ...(p?.rdbProgress ? { keysDone: p.rdbProgress.keys, bytesDone: p.rdbProgress.bytes } : {}),
    ...(p?.rdb ? { keysDone: p.rdb.keys, bytesDone: p.rdb.bytes } : {}),
  });
}

export function fullSyncExecutor(get: LivePhaseProvider): StepExecutor {
  return {
    async run(ctx) {
      if (ctx.step.params.method !== 'psync') {
        throw new UnrecoverableStepError(
          `copy method "${String(ctx.step.params.method)}" is not the psync full sync this step was approved for`,
        );
      }
      const lp = need(get, ctx);
      const { run } = await ensureFollower(lp, ctx, 'follow', { reconcile: false });
      const s = await waitForFollower(lp, ctx, {
        what: 'the full sync (the RDB restored on the target)',
        until: (st) => st.psync?.phase === 'stream',
        timeoutMs: lp.timing.catchUpTimeoutMs,
        onStatus: (st) => progress(ctx, st),
      });
      progress(ctx, s);
      const p = s.psync!;
      const rdb = p.rdb;
      const loaded = rdb
        ? `restored ${rdb.keys} keys (${(rdb.bytes / 1024 / 1024).toFixed(1)} MiB of RDB) and ${rdb.functions} ` +
          `function libraries in ${(rdb.ms / 1000).toFixed(1)} s from the source's full sync`
        : 'continued the replication stream from the saved offset (the RDB was already on the target)';
      return {
        summary: `${loaded}; the follower applies the replication stream from offset ${p.appliedOffset ?? '?'}`,
        result: {
          followerRun: run,
          replid: p.replid,
          offset: p.appliedOffset,
          keysCopied: rdb?.keys ?? null,
          rdbBytes: rdb?.bytes ?? null,
          functions: rdb?.functions ?? null,
          durationMs: rdb?.ms ?? null,
          fullSyncs: p.fullSyncs,
        },
        verdict: s.warnings.length > 0 ? 'warning' : 'ok',
      };
    },
    abortState: () =>
      'source unchanged (a replica only reads); the target holds a partial copy, and the follower stops the replica',
  };
}
