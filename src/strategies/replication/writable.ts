// make_writable: replica-read-only no (the step's `config`), so apps repointed to the target can
// write while the old ones still replicate in through the source. Gated by the runbook.
import { UnrecoverableStepError } from '../../runbook/errors.js';
import type { StepContext, StepOutcome } from '../../runbook/step-executor.js';
import { runGuarded } from './guard.js';
import { replicatesFrom } from './info.js';
import { asWritableRecord, rememberedOriginals, startRecord, type WritableCheckpoint } from './records.js';
import { applySettings, mergeOriginals, settingsToChange } from './settings.js';

export async function makeWritable(ctx: StepContext): Promise<StepOutcome> {
  const config = (ctx.step.params.config ?? { 'replica-read-only': 'no' }) as Record<string, string>;
  const start = startRecord(ctx.migration);
  let record = asWritableRecord(ctx.checkpoint);
  return runGuarded(
    ctx,
    async (session) => {
      const target = await session.targetState();
      if (start && !replicatesFrom(target, start.replicaOf.host, start.replicaOf.port)) {
        throw new UnrecoverableStepError(
          'the target no longer replicates from the source: making it writable now would not be the approved step',
        );
      }
      const { changes, originals } = await settingsToChange(session.target, config);
      const next: WritableCheckpoint = {
        version: 1,
        originals: mergeOriginals(record?.originals, originals),
      };
      if (JSON.stringify(next) !== JSON.stringify(record)) await ctx.saveCheckpoint(next);
      record = next;
      await applySettings(session.target, changes);
      const set = Object.entries(config)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      return {
        summary: `the target accepts writes (${set}) and still follows the source until promoted`,
        result: { record, applied: Object.keys(changes) },
      };
    },
    {
      // This step's own originals are not in the migration yet (only in its checkpoint).
      originals: () => mergeOriginals(rememberedOriginals(ctx.migration), record?.originals),
    },
  );
}
