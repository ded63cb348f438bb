// Parameters of the steps that write keys to the target (dump-restore and migrate).
import { isAvailable, type PlanContext } from '../context.js';
import type { CopyPath } from '../copy-path.js';
import { DEFAULT_WRITE_PAUSE_TIMEOUT_MS } from '../defaults.js';
import { functionsPolicy } from '../functions.js';
import { selectionParams } from './common.js';

export function copyParams(ctx: PlanContext, path: CopyPath): Record<string, unknown> {
  const { options } = ctx;
  const limit = ctx.target.protoMaxBulkLen;
  return {
    ...selectionParams(ctx),
    copyMode: path.copyMode,
    onNonEmptyTarget: options.onNonEmptyTarget,
    flushTarget: options.onNonEmptyTarget === 'flush',
    replace: options.onNonEmptyTarget !== 'refuse',
    // PTTL in ms, written as a relative TTL; -1 becomes 0 (no expiry), -2 (gone) is skipped.
    ttl: 'pttl-relative',
    bigKeyThresholdBytes: options.bigKeyThresholdBytes,
    chunkAboveBytes:
      limit === null ? options.bigKeyThresholdBytes : Math.min(options.bigKeyThresholdBytes, limit),
    functions: functionsPolicy(ctx),
    sizeProbe: sizeProbe(ctx),
    // Only when asked, so plans without it keep the parameters (and approvals) they had.
    ...(options.dropFieldTtls ? { dropFieldTtls: true } : {}),
  };
}

/**
 * MEMORY USAGE before every DUMP: 'always' when the probe's sample found keys over the big-key
 * threshold (a DUMP of one would stall the source and spike its memory), else 'auto' (the copy
 * then decides from the source's memory, see engine/copy/size-probe.ts).
 */
function sizeProbe(ctx: PlanContext): 'auto' | 'always' {
  const threshold = ctx.options.bigKeyThresholdBytes;
  const selected = new Set(ctx.dbs);
  const big = ctx.source.bigKeys?.keys.some((k) => selected.has(k.db) && k.bytes > threshold);
  return big ? 'always' : 'auto';
}

/** How changes on the source are captured from the start of the copy, or null without live sync. */
export function captureParams(path: CopyPath): Record<string, unknown> | null {
  if (path.liveSync === 'none') return null;
  return {
    notifyKeyspaceEvents: path.notifications.setTo ?? path.notifications.current,
    setConfig: path.liveSync === 'enable-notifications',
    restoreTo: path.liveSync === 'enable-notifications' ? path.notifications.current : null,
  };
}

export function pauseParams(ctx: PlanContext, path: CopyPath): Record<string, unknown> {
  return {
    method: path.writePause,
    // Each CLIENT PAUSE WRITE expires on its own; the engine renews it until resume_writes, so a
    // crashed worker cannot leave the source paused for long.
    timeoutMs: ctx.options.writePauseTimeoutMs ?? DEFAULT_WRITE_PAUSE_TIMEOUT_MS,
    renewUntilResumed: true,
  };
}

export function resumeParams(ctx: PlanContext, path: CopyPath): Record<string, unknown> {
  return {
    method: path.writePause,
    killStaleClients: isAvailable(ctx, 'source', 'CLIENT KILL') && isAvailable(ctx, 'source', 'CLIENT LIST'),
    restoreNotifyKeyspaceEvents:
      path.liveSync === 'enable-notifications' ? (path.notifications.current ?? null) : null,
  };
}
