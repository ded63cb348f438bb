// wait_sync: follows the initial sync until the link is up, the snapshot is loaded and the target
// has everything the source wrote (lag 0). Stops with a report instead of waiting forever when the
// sync keeps restarting (a loop) or the target loses all contact with the source.
import { describeEndpoint } from '../../redis/endpoint.js';
import { UnrecoverableStepError } from '../../runbook/errors.js';
import type { StepContext, StepOutcome } from '../../runbook/step-executor.js';
import { sleep } from '../../util/sleep.js';
import { describeDetach, detachAndRestore } from './abort.js';
import { runGuarded, throwIfStopped } from './guard.js';
import { describeLink, replicatesFrom, type SourceState, type TargetState, totalKeys } from './info.js';
import { diagnoseNoContact, hasContact } from './link.js';
import { buildLoopReport, fullSyncsSince, readLoopSettings } from './loop.js';
import type { ResolvedReplicationOptions } from './options.js';
import { rememberedOriginals, type StartCheckpoint, startRecord } from './records.js';
import type { LinkSession } from './session.js';
import { attach } from './start.js';

/** Keys per db as "db0 10/12, db1 3/3" (target/source). */
export function keysPerDb(source: SourceState, target: TargetState): string {
  const dbs = [...new Set([...source.keyspace, ...target.keyspace].map((d) => d.db))].sort((a, b) => a - b);
  return dbs
    .map((db) => {
      const s = source.keyspace.find((d) => d.db === db)?.keys ?? 0;
      const t = target.keyspace.find((d) => d.db === db)?.keys ?? 0;
      return `db${db} ${t}/${s}`;
    })
    .join(', ');
}

function progressMessage(
  target: TargetState,
  lagBytes: number,
  source: SourceState,
  omem: number | null,
): string {
  let phase: string;
  if (target.syncInProgress) {
    const read = target.syncReadBytes ?? 0;
    phase =
      target.syncTotalBytes !== null
        ? `full sync: ${read} of ${target.syncTotalBytes} bytes received (${target.syncTotalBytes - read} left)`
        : `full sync: ${read} bytes received (size unknown: diskless sync)`;
  } else if (target.loading) {
    phase = `loading the snapshot${target.loadingPercent !== null ? ` (${target.loadingPercent.toFixed(0)}%)` : ''}`;
  } else if (target.linkUp) {
    phase = `link up, lag ${lagBytes} bytes (source offset ${source.offset}, target ${target.offset})`;
  } else {
    phase = describeLink(target);
  }
  const buffer = omem !== null ? `; source output buffer for this replica ${omem} bytes` : '';
  return `${phase}; keys ${keysPerDb(source, target)}${buffer}`;
}

export async function waitForSync(
  ctx: StepContext,
  options: ResolvedReplicationOptions,
): Promise<StepOutcome> {
  const record = startRecord(ctx.migration);
  if (!record)
    throw new UnrecoverableStepError('start replication has not run: there is no link to wait for');
  const maxLag = Number(ctx.step.params.maxLagBytes ?? 0);
  return runGuarded(ctx, async (session) => {
    if (!session.source) {
      throw new UnrecoverableStepError(
        `the source ${describeEndpoint(ctx.endpoints.source)} is not reachable from this worker: cannot compare offsets`,
      );
    }
    let baseline = record.syncFullBaseline;
    const reattached = await ensureAttached(ctx, session, record);
    if (reattached !== null) baseline = reattached;

    const started = Date.now();
    const first = await session.sourceState();
    baseline ??= first.syncFull;
    let maxOmem: number | null = null;
    let noContactSince: number | undefined;
    for (;;) {
      throwIfStopped(ctx.signal);
      const { source, target, lagBytes } = await session.readBoth();
      if (!replicatesFrom(target, record.replicaOf.host, record.replicaOf.port)) {
        throw new UnrecoverableStepError(
          `the target stopped replicating from the source (it now reports role:${target.role === 'replica' ? `slave of ${target.masterHost}:${target.masterPort}` : 'master'}); someone changed it outside the runbook`,
        );
      }
      const settled = target.linkUp && !target.syncInProgress && !target.loading;
      const omem = await session.outputBufferBytes();
      if (omem !== null) maxOmem = Math.max(maxOmem ?? 0, omem);
      ctx.reportProgress({
        phase: target.syncInProgress
          ? 'full-sync'
          : target.loading
            ? 'loading'
            : settled
              ? 'catching-up'
              : 'connecting',
        keysDone: totalKeys(target.keyspace),
        keysTotal: totalKeys(source.keyspace),
        ...(target.syncReadBytes !== null ? { bytesDone: target.syncReadBytes } : {}),
        message: progressMessage(target, lagBytes, source, omem),
      });

      if (settled && lagBytes <= maxLag) {
        const fullSyncs = fullSyncsSince({ syncFullBaseline: baseline, syncFullNow: source.syncFull });
        // The full sync began with REPLICAOF (start_replication), not with this step.
        const syncStarted = Date.parse(
          ctx.migration.steps.find((s) => s.kind === 'start_replication')?.startedAt ?? '',
        );
        const syncMs = Date.now() - (Number.isNaN(syncStarted) ? started : syncStarted);
        return {
          ...(fullSyncs > 0 ? { copied: { keys: totalKeys(target.keyspace), durationMs: syncMs } } : {}),
          summary:
            `in sync: link up, target offset ${target.offset} = source offset ${source.offset}; keys ` +
            `${keysPerDb(source, target)}; ${fullSyncs} full sync${fullSyncs === 1 ? '' : 's'}`,
          result: {
            sourceOffset: source.offset,
            targetOffset: target.offset,
            lagBytes,
            fullSyncs,
            keys: source.keyspace.map((d) => ({
              db: d.db,
              source: d.keys,
              target: target.keyspace.find((t) => t.db === d.db)?.keys ?? 0,
            })),
            durationMs: Date.now() - started,
            reattached: reattached !== null,
          },
        };
      }

      const fullSyncs = fullSyncsSince({ syncFullBaseline: baseline, syncFullNow: source.syncFull });
      if (fullSyncs >= options.maxFullSyncs && !settled) {
        const current = await readLoopSettings(session.source);
        const report = buildLoopReport(
          {
            syncFullBaseline: baseline,
            syncFullNow: source.syncFull,
            streamBytes: source.offset - first.offset,
            observedMs: Date.now() - started,
            maxOutputBufferBytes: maxOmem,
            backlogBytes: source.replBacklogSize,
          },
          current,
        );
        // Each restart forks the source for a new snapshot: stop it rather than let it go on.
        const undo = await detachAndRestore(
          session.target,
          rememberedOriginals(ctx.migration),
          record.replicaOf,
        );
        await ctx.audit('note', `replication loop detected: ${report.message}`, { loop: report });
        return {
          summary: `${report.message} To spare the source more forks, ${describeDetach(undo)}. Retrying this step attaches the target again.`,
          result: { loop: report, detached: undo.detached },
          verdict: 'failed',
        };
      }

      if (hasContact(target, source)) noContactSince = undefined;
      else {
        noContactSince ??= Date.now();
        const waited = Date.now() - noContactSince;
        if (waited >= options.linkTimeoutMs) {
          const why = await diagnoseNoContact(session, record.replicaOf, target, waited);
          throw new UnrecoverableStepError(
            `${why} The target keeps trying: retry this step once that is fixed, or abort (which detaches it).`,
          );
        }
      }
      await sleep(options.pollIntervalMs, ctx.signal);
    }
  });
}

/**
 * The target should replicate from the source since start. After a loop this step detached it:
 * a retry attaches it again (what start was approved for). Returns the new full-sync baseline
 * when it re-attached, else null.
 */
async function ensureAttached(
  ctx: StepContext,
  session: LinkSession,
  record: StartCheckpoint,
): Promise<number | null> {
  const target = await session.targetState();
  if (replicatesFrom(target, record.replicaOf.host, record.replicaOf.port)) return null;
  if (target.role === 'replica') {
    throw new UnrecoverableStepError(
      `the target now replicates ${target.masterHost}:${target.masterPort}, not the source: someone changed it outside the runbook`,
    );
  }
  const baseline = (await session.sourceState()).syncFull;
  // Originals come from the start step's record; this step changes nothing new that needs keeping.
  await attach(ctx, session, rememberedOriginals(ctx.migration), async () => undefined, record.replicaOf);
  ctx.reportProgress({ phase: 'connecting', message: 'attached the target to the source again' });
  await ctx.audit('note', 'the target was not replicating (detached after a failed sync): attached it again');
  return baseline;
}
