// make_writable and repoint, with the recording of writes on the target started before the apps
// can write there (the inner executor makes the target writable, runs the hook or asks a person).
// The record stays incomplete, and says why, when the target cannot report writes; the cutover
// goes on, and the final check then counts every difference.
import type { StepExecutor } from '../../runbook/step-executor.js';
import { errorMessage } from '../../util/errors.js';
import type { AppWritesProvider } from './final-check.js';

export function recordingExecutor(inner: StepExecutor, get: AppWritesProvider): StepExecutor {
  return {
    async run(ctx) {
      const aw = get();
      if (aw) {
        try {
          const started = await aw.watches.ensure(ctx.migration.id, ctx.endpoints.target);
          if (started === 'started') {
            await ctx.audit(
              'note',
              `recording the keys written on ${ctx.migration.target} from now on, so the final check can tell the ` +
                "apps' writes from differences",
            );
          }
        } catch (err) {
          await ctx.audit(
            'note',
            `${errorMessage(err)}; the final check will count the apps' writes after the repoint as differences`,
          );
        }
      }
      return inner.run(ctx);
    },
    ...(inner.abortState ? { abortState: inner.abortState } : {}),
  };
}
