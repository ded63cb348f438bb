// The MIGRATE strategy's bulk copy: the first pass, and the final pass under the write pause, with
// the MIGRATE engine beside it (migrate-keys.ts). Its other steps are the ones every key copy
// shares (../shared/key-copy.ts).

import { type CopyCheckpoint, type CopyReport, copyKeys } from '../../engine/copy/index.js';
import { remapFromParams } from '../../engine/db-mapping.js';
import { deleteExtraKeys } from '../../engine/live-sync/index.js';
import { connect } from '../../redis/connect.js';
import type { Endpoint } from '../../redis/endpoint.js';
import { UnrecoverableStepError } from '../../runbook/errors.js';
import type { Migration } from '../../runbook/model.js';
import type { StepContext, StepExecutor, StepOutcome } from '../../runbook/step-executor.js';
import { UserError } from '../../util/errors.js';
import { reportCopyProgress, requireCompleteCopy, stepCheckpointStore } from '../shared/copy-step.js';
import { type MigrateOptions, type MigrateReport, migrateKeys } from './migrate-keys.js';

export interface MigrateExecutorOptions {
  /** The target address as the source reaches it, when it differs from this worker's view. */
  targetAddress?: (target: Endpoint) => { host: string; port: number };
  /** Tries of an IOERR batch (default 3). */
  maxIoRetries?: number;
}

/** Engine options from the step's parameters, exactly as the planner wrote (and people approved) them. */
export function migrateOptionsFromParams(
  params: Record<string, unknown>,
): Omit<MigrateOptions, 'checkpoint'> {
  const final = params.pass === 'final';
  const options: Omit<MigrateOptions, 'checkpoint'> = {
    dbs: Array.isArray(params.dbs) ? (params.dbs as number[]) : 'all',
    onNonEmptyTarget:
      (params.onNonEmptyTarget as MigrateOptions['onNonEmptyTarget']) ?? (final ? 'replace' : 'refuse'),
    prepareTarget: !final,
    deleteRemoved: params.deleteRemoved === true,
    batchKeys: typeof params.batchKeys === 'number' ? params.batchKeys : 100,
    timeoutMs: typeof params.timeoutMs === 'number' ? params.timeoutMs : 10_000,
    functions: final ? null : ((params.functions as MigrateOptions['functions']) ?? null),
  };
  const remap = remapFromParams(params);
  if (remap) options.remap = remap;
  if (typeof params.match === 'string') options.match = params.match;
  return options;
}

function summarize(r: MigrateReport, final: boolean): string {
  const extra = [
    r.keysSkipped ? `${r.keysSkipped} vanished before they could be sent` : '',
    r.keysDeleted ? `${r.keysDeleted} deleted on the target (gone from the source)` : '',
    r.functions && r.functions.action !== 'none' ? `functions: ${r.functions.action}` : '',
    r.resumed ? 'resumed from a checkpoint' : '',
  ].filter(Boolean);
  return (
    `${final ? 'final pass: ' : ''}MIGRATE sent ${r.keysCopied} keys from db ${r.dbs.join(', ')} in ` +
    `${(r.durationMs / 1000).toFixed(1)} s (COPY: the source keeps them)` +
    (extra.length ? `; ${extra.join('; ')}` : '')
  );
}

/** Source writes are held by CLIENT PAUSE WRITE: the write_pause step ran and resume_writes did not. */
export function sourceWritesPaused(m: Pick<Migration, 'steps'>): boolean {
  const pause = m.steps.find((s) => s.kind === 'write_pause');
  const resume = m.steps.find((s) => s.kind === 'resume_writes');
  return (
    pause?.status === 'succeeded' && pause.params.method === 'client-pause' && resume?.status !== 'succeeded'
  );
}

/**
 * The final pass while CLIENT PAUSE WRITE holds the source. MIGRATE counts as a write (even with
 * COPY), so the pause would hold it back until the pause ends; DUMP is a read and goes on. The copy
 * engine does the same job from this worker (RESTORE REPLACE), with the same checkpoint and counters.
 */
async function finalPassWhilePaused(ctx: StepContext, notes: string[]): Promise<StepOutcome> {
  const params = ctx.step.params;
  const { source, target } = ctx.endpoints;
  let report: CopyReport;
  try {
    report = await copyKeys(source, target, {
      dbs: Array.isArray(params.dbs) ? (params.dbs as number[]) : 'all',
      ...(remapFromParams(params) ? { remap: remapFromParams(params)! } : {}),
      ...(typeof params.match === 'string' ? { match: params.match } : {}),
      onNonEmptyTarget: 'replace',
      copyFunctions: false,
      checkpoint: stepCheckpointStore(ctx),
      signal: ctx.signal,
      logger: ctx.logger,
      onProgress: reportCopyProgress(ctx, { countSkipped: true }),
    });
  } catch (err) {
    if (err instanceof UserError) throw new UnrecoverableStepError(err.message);
    throw err;
  }
  requireCompleteCopy(report, 'the final pass stopped part way');
  let keysDeleted = 0;
  if (params.deleteRemoved === true || params.scope === 'changed-keys') {
    const [src, dst] = [
      await connect(source, { role: 'final-pass' }),
      await connect(target, { role: 'final-pass' }),
    ];
    try {
      for (const db of report.dbs) {
        keysDeleted += await deleteExtraKeys(src, dst, db, {
          ...(report.remap ? { remap: report.remap } : {}),
          batchSize: 500,
          signal: ctx.signal,
          ...(typeof params.match === 'string' ? { match: params.match } : {}),
        });
      }
    } finally {
      src.disconnect();
      dst.disconnect();
    }
  }
  notes.unshift(
    'source writes are paused (CLIENT PAUSE WRITE holds MIGRATE back too), so the keys went with DUMP/RESTORE from this worker',
  );
  return {
    summary:
      `final pass: copied ${report.keysCopied} keys from db ${report.dbs.join(', ')} in ` +
      `${(report.durationMs / 1000).toFixed(1)} s${keysDeleted ? `; ${keysDeleted} deleted on the target` : ''} (${notes.join('; ')})`,
    result: {
      method: 'dump-restore',
      pass: 'final',
      keysCopied: report.keysCopied,
      keysSkipped: report.keysSkipped,
      keysDeleted,
      dbs: report.dbs,
      durationMs: report.durationMs,
      resumed: report.resumed,
      notes,
    },
  };
}

export function migrateBulkCopyExecutor(options: MigrateExecutorOptions = {}): StepExecutor {
  return {
    async run(ctx: StepContext) {
      const params = ctx.step.params;
      if (params.copy !== true) {
        // MIGRATE without COPY deletes the source's keys: never what a migration wants.
        throw new UnrecoverableStepError('MIGRATE steps must copy (COPY); this step does not say so');
      }
      const final = params.pass === 'final';
      const notes: string[] = [];
      // 'changed-keys': plans made before the live phase followed MIGRATE's changes.
      if (params.scope === 'changed-keys') {
        notes.push(
          'no record of changed keys is kept between MIGRATE steps yet: every key was sent again (REPLACE) and ' +
            'target keys gone from the source were deleted',
        );
      }
      if (final && sourceWritesPaused(ctx.migration)) return finalPassWhilePaused(ctx, notes);
      const engineOptions: MigrateOptions = {
        ...migrateOptionsFromParams(params),
        ...(params.scope === 'changed-keys' ? { deleteRemoved: true } : {}),
        checkpoint: stepCheckpointStore(ctx),
        signal: ctx.signal,
        logger: ctx.logger,
        onProgress: reportCopyProgress(ctx, { countSkipped: true }),
      };
      if (options.targetAddress) engineOptions.targetAddress = options.targetAddress;
      if (options.maxIoRetries !== undefined) engineOptions.maxIoRetries = options.maxIoRetries;
      let report: MigrateReport;
      try {
        report = await migrateKeys(ctx.endpoints.source, ctx.endpoints.target, engineOptions);
      } catch (err) {
        // Refusals, auth and network-path problems need a person; dropped connections are retried.
        if (err instanceof UserError) throw new UnrecoverableStepError(err.message);
        throw err;
      }
      requireCompleteCopy(report, 'the target holds a partial copy');
      return {
        // The first pass copies every key (a final pass, or a resumed run, does not time a whole copy).
        ...(final || report.resumed
          ? {}
          : { copied: { keys: report.keysCopied, durationMs: report.durationMs } }),
        summary: summarize(report, final) + (notes.length ? ` (${notes.join('; ')})` : ''),
        result: {
          method: 'migrate',
          pass: final ? 'final' : 'bulk',
          keysCopied: report.keysCopied,
          keysSkipped: report.keysSkipped,
          keysDeleted: report.keysDeleted,
          dbs: report.dbs,
          functions: report.functions,
          durationMs: report.durationMs,
          keysPerSecond: report.keysPerSecond,
          resumed: report.resumed,
          notes,
        },
      };
    },
    abortState(ctx) {
      const cp = ctx.checkpoint as CopyCheckpoint | undefined;
      return `source unchanged (MIGRATE COPY); the target holds a partial copy (${cp?.counters.keysCopied ?? 0} keys), resumable from the checkpoint`;
    },
  };
}
