// promote: REPLICAOF NO ONE once the target has everything (lag 0), then every setting start and
// make_writable changed goes back to its original value. Gated by the runbook. Idempotent: a re-run
// after a crash finds the target a primary already and only restores what is left.
import { UnrecoverableStepError } from '../../runbook/errors.js';
import type { StepContext, StepOutcome } from '../../runbook/step-executor.js';
import { checkSourceIdentity, runGuarded } from './guard.js';
import { replicatesFrom, totalKeys } from './info.js';
import type { ResolvedReplicationOptions } from './options.js';
import { rememberedOriginals, startRecord } from './records.js';
import { restoreSettings } from './settings.js';
import { waitForLagZero } from './verify.js';

export async function promote(ctx: StepContext, options: ResolvedReplicationOptions): Promise<StepOutcome> {
  const start = startRecord(ctx.migration);
  return runGuarded(ctx, async (session) => {
    const before = await session.targetState();
    const attached = start
      ? replicatesFrom(before, start.replicaOf.host, start.replicaOf.port)
      : before.role === 'replica';
    let offsets: { source: number; target: number } | null = null;
    if (attached) {
      if (!session.source)
        throw new UnrecoverableStepError(
          'the source is not reachable from this worker: cannot check the lag',
        );
      ctx.reportProgress({ phase: 'lag', message: 'waiting for replication lag 0 before promoting' });
      const read = await waitForLagZero(session, ctx.signal, options.lagTimeoutMs, options.pollIntervalMs);
      if (read.lagBytes > 0) {
        throw new UnrecoverableStepError(
          `not promoted: the target is still ${read.lagBytes} bytes behind the source after ` +
            `${Math.round(read.waitedMs / 1000)} s, so writes still reach the source; run the drain check again`,
        );
      }
      offsets = { source: read.source.offset, target: read.target.offset };
      // Lag 0 against a source that is now someone else's replica would promote another dataset.
      await checkSourceIdentity(ctx, session, 'before the promotion');
      await session.target.call('REPLICAOF', 'NO', 'ONE');
    } else if (before.role === 'replica') {
      throw new UnrecoverableStepError(
        `the target replicates ${before.masterHost}:${before.masterPort}, not the source: not promoting it`,
      );
    }
    const originals = rememberedOriginals(ctx.migration);
    const { restored, failed } = await restoreSettings(session.target, originals);
    if (failed.length > 0) {
      throw new UnrecoverableStepError(
        `the target is promoted, but restoring its settings failed: ${failed.join('; ')} (retry this step)`,
      );
    }
    const after = await session.targetState();
    const at = offsets ? ` at offset ${offsets.target} (= the source's)` : ' (it was a primary already)';
    return {
      summary:
        `the target is a standalone primary${at} with ${totalKeys(after.keyspace)} keys` +
        (restored.length > 0 ? `; restored ${restored.join(', ')}` : ''),
      result: {
        offsets,
        restored,
        keys: after.keyspace.map((d) => ({ db: d.db, keys: d.keys, expires: d.expires })),
        promotedAt: new Date().toISOString(),
      },
    };
  });
}
