// bulk_copy: every selected key, source -> target, with the copy engine. The engine's checkpoint
// is kept with the step (fenced), so a worker that takes over resumes where the last one stopped.

import { CopyStoppedError } from '../../engine/copy/errors.js';
import { copyKeys } from '../../engine/copy/index.js';
import type { CopyCheckpoint, CopyOptions, CopyReport } from '../../engine/copy/types.js';
import { remapFromParams } from '../../engine/db-mapping.js';
import { TransientStepError, UnrecoverableStepError } from '../../runbook/errors.js';
import type { StepExecutor } from '../../runbook/step-executor.js';
import { ExitCode } from '../../util/errors.js';
import { reportCopyProgress, requireCompleteCopy, stepCheckpointStore } from '../shared/copy-step.js';

/** Copy options from the step's parameters (as the planner wrote them, and as they were approved). */
export function copyOptionsFromParams(params: Record<string, unknown>): Omit<CopyOptions, 'checkpoint'> {
  const mode = params.copyMode === 'by-type' ? 'by-type' : 'auto';
  const options: Omit<CopyOptions, 'checkpoint'> = {
    dbs: (params.dbs as CopyOptions['dbs']) ?? 'all',
    onNonEmptyTarget: (params.onNonEmptyTarget as CopyOptions['onNonEmptyTarget']) ?? 'refuse',
    mode,
  };
  const remap = remapFromParams(params);
  if (remap) options.remap = remap;
  if (typeof params.match === 'string') options.match = params.match;
  if (typeof params.chunkAboveBytes === 'number') options.bigKeyThresholdBytes = params.chunkAboveBytes;
  if (params.functions === null) options.copyFunctions = false;
  if (params.sizeProbe === 'always') options.sizeProbe = 'always';
  if (params.dropFieldTtls === true) options.dropFieldTtls = true;
  return options;
}

function summarize(r: CopyReport): string {
  const mb = (r.bytesCopied / 1024 / 1024).toFixed(1);
  const extra = [
    r.keysSkipped ? `${r.keysSkipped} vanished before they could be copied` : '',
    r.keysFailed ? `${r.keysFailed} failed` : '',
    r.keysByTypeFallback ? `${r.keysByTypeFallback} copied type by type` : '',
    r.fieldTtlsDropped
      ? `${r.fieldTtlsDropped} hash fields copied without their TTL (--drop-field-ttls)`
      : '',
    r.resumed ? 'resumed from a checkpoint' : '',
    ...(r.restarts ?? []).map((why) => `started over from the first key: ${why}`),
  ].filter(Boolean);
  return (
    `copied ${r.keysCopied} keys (${mb} MiB) from db ${r.dbs.join(', ')} in ${(r.durationMs / 1000).toFixed(1)} s` +
    (extra.length ? `; ${extra.join('; ')}` : '')
  );
}

export const bulkCopyExecutor: StepExecutor = {
  async run(ctx) {
    const { source, target } = ctx.endpoints;
    const method = ctx.step.params.method ?? 'dump-restore';
    if (method !== 'dump-restore') {
      // The approval was given for this method; copying another way would not be what was approved.
      throw new UnrecoverableStepError(`copy method "${String(method)}" is not supported by this worker yet`);
    }
    let report: CopyReport;
    try {
      report = await copyKeys(source, target, {
        ...copyOptionsFromParams(ctx.step.params),
        checkpoint: stepCheckpointStore(ctx),
        signal: ctx.signal,
        logger: ctx.logger,
        onProgress: reportCopyProgress(ctx, { countSkipped: false }),
      });
    } catch (err) {
      if (err instanceof CopyStoppedError) {
        // Unreachable servers may come back; out of memory or a read-only target will not.
        if (err.exitCode === ExitCode.usage) throw new TransientStepError(err.message);
        throw new UnrecoverableStepError(err.message);
      }
      throw err;
    }
    requireCompleteCopy(report, 'the target holds a partial copy');
    const result = {
      keysCopied: report.keysCopied,
      bytesCopied: report.bytesCopied,
      keysSkipped: report.keysSkipped,
      keysFailed: report.keysFailed,
      keysByTypeFallback: report.keysByTypeFallback,
      bigKeysChunked: report.bigKeysChunked,
      ...(report.fieldTtlsDropped ? { fieldTtlsDropped: report.fieldTtlsDropped } : {}),
      dbs: report.dbs,
      functions: report.functions,
      errors: report.errors.slice(0, 20),
      durationMs: report.durationMs,
      keysPerSecond: report.keysPerSecond,
      restarts: report.restarts ?? [],
      // Who source and target were: later steps and followers check the source against it.
      ...(report.identity ? { identity: report.identity } : {}),
    };
    // Keys that could not be copied leave the target incomplete; verification will show which.
    return {
      summary: summarize(report),
      result,
      verdict: report.keysFailed > 0 ? 'warning' : 'ok',
      // A resumed run timed only its own part: its rate says nothing of a whole copy.
      ...(report.resumed
        ? {}
        : { copied: { keys: report.keysCopied, bytes: report.bytesCopied, durationMs: report.durationMs } }),
    };
  },
  abortState(ctx) {
    const cp = ctx.checkpoint as CopyCheckpoint | undefined;
    const n = cp?.counters.keysCopied ?? 0;
    return `source unchanged; the target holds a partial copy (${n} keys), resumable from the checkpoint`;
  },
};
