// Approve, Done, Run again and Ask again: ack at once, read the step reference from the button, and
// forward the click with the clicker's user id. Whether it counts is the runbook's decision; the
// messages themselves are updated from the runbook's events, not from here. (Reject opens a dialog
// first: reject-clicked.ts.)
import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { SlackDeps } from '../deps.js';
import { type CommandReply, failureReply, replyEphemeral } from '../reply.js';
import { STALE_BUTTON, stepClickRequest } from './step-click.js';
import type { StepDecisionKind } from './step-decision-handlers.js';

type Args = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & Pick<AllMiddlewareArgs, 'logger'>;

export function stepDecision(kind: StepDecisionKind, deps: Pick<SlackDeps, 'decisions' | 'logger'>) {
  return async ({ ack, body, action, respond }: Args): Promise<void> => {
    try {
      await ack();
    } catch (err) {
      deps.logger.error({ error: String(err) }, `could not ack ${kind} click`);
      return;
    }
    const log = deps.logger.child({ user: body.user.id, action: kind });
    const request = stepClickRequest(body, action.value);
    let reply: CommandReply | undefined;
    if (!request) {
      log.warn('step click with an unreadable button value');
      reply = STALE_BUTTON;
    } else {
      const where = { migrationId: request.migrationId, stepId: request.stepId };
      log.info(where, 'step click');
      try {
        reply = await deps.decisions[kind](request);
      } catch (err) {
        reply = failureReply(err, log, where);
      }
    }
    if (reply) await replyEphemeral(respond, reply, log);
  };
}
