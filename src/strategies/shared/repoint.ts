// repoint: the apps move to the target. Without a hook, a person does it and confirms; the step
// waits for that confirmation without holding a job.
import type { StepExecutor } from '../../runbook/step-executor.js';

export const personConfirmsRepoint: StepExecutor = {
  async run(ctx) {
    const by = ctx.step.confirmedBy;
    if (!by) {
      return {
        summary: 'waiting for a person to repoint the apps',
        awaitConfirmation: `point the apps at ${ctx.migration.target} (${ctx.endpoints.target.redactedUrl}), then confirm`,
      };
    }
    return {
      summary: `${by.userId} confirmed the apps now use ${ctx.migration.target}${by.reason ? ` (${by.reason})` : ''}`,
      result: { confirmedBy: by.userId, at: by.at },
    };
  },
  abortState: () => 'nothing was changed by this step; check where the apps point before going on',
};
