// A step's fenced checkpoint (StepContext) as the copy engines' checkpoint store, so a worker that
// takes a copy over resumes where the last one stopped.
import type { CheckpointStore, CopyCheckpoint } from '../../engine/copy/types.js';
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
