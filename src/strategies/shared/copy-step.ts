// What the copy steps (dump-restore's and MIGRATE's bulk copies) share: the step's fenced
// checkpoint as the copy engines' checkpoint store, so a worker that takes a copy over resumes
// where the last one stopped; their progress in the step's terms; and the end of a copy that did
// not finish, which must never pass as copied.
import { functionsNotCopied } from '../../engine/copy/index.js';
import type { CheckpointStore, CopyCheckpoint, CopyProgress } from '../../engine/copy/types.js';
import { StepAbortedError, UnrecoverableStepError } from '../../runbook/errors.js';
import type { StepContext } from '../../runbook/step-executor.js';

/** The copy engine's checkpoint store on top of the step's fenced checkpoint. */
export function stepCheckpointStore(
  ctx: Pick<StepContext, 'checkpoint' | 'saveCheckpoint'>,
): CheckpointStore {
  let latest = ctx.checkpoint as CopyCheckpoint | undefined;
  return {
    async load() {
      return latest;
    },
    async save(cp) {
      await ctx.saveCheckpoint(cp);
      latest = cp;
    },
  };
}

/** The copy engines' progress as the step's (keys skipped count as done: they were dealt with). */
export function reportCopyProgress(
  ctx: Pick<StepContext, 'reportProgress'>,
  { countSkipped }: { countSkipped: boolean },
): (p: CopyProgress) => void {
  return (p) =>
    ctx.reportProgress({
      phase: p.phase,
      keysDone: p.keysCopied + (countSkipped ? p.keysSkipped : 0),
      keysTotal: p.totalKeys,
      ...(countSkipped ? {} : { bytesDone: p.bytesCopied }),
      keysPerSecond: p.keysPerSecond,
      etaSeconds: p.etaSeconds,
    });
}

/** Throws unless the copy went through every key and the function libraries it was asked to copy. */
export function requireCompleteCopy(
  report: { complete: boolean; keysCopied: number; functions?: Parameters<typeof functionsNotCopied>[0] },
  partly: string,
): void {
  // The planner blocks this; a target that lost FUNCTION since then must not pass as copied.
  const functionsFailure = functionsNotCopied(report.functions);
  if (functionsFailure) throw new UnrecoverableStepError(functionsFailure);
  if (!report.complete) {
    throw new StepAbortedError(
      `source unchanged; ${partly} (${report.keysCopied} keys so far), resumable from the checkpoint`,
    );
  }
}
