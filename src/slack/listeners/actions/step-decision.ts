// Approve/Reject clicks: ack at once, read the opaque step reference from the button, and forward
// the click with the clicker's user id. Whether it counts is the runbook's decision; the message
// itself is updated from the runbook's events, not from here.
import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { decodeStepRef } from '../../blocks/approval.js';
import { errorReply } from '../../blocks/error.js';
import type { CommandReply, SlackDeps, StepDecisionRequest } from '../deps.js';
import { ephemeral, failureReply } from '../reply.js';

type Args = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & Pick<AllMiddlewareArgs, 'logger'>;

export function stepDecision(kind: 'approve' | 'reject', deps: Pick<SlackDeps, 'decisions' | 'logger'>) {
  return async ({ ack, body, action, respond }: Args): Promise<void> => {
    try {
      await ack();
    } catch (err) {
      deps.logger.error({ error: String(err) }, `could not ack ${kind} click`);
      return;
    }
    const userId = body.user.id;
    const log = deps.logger.child({ user: userId, action: kind });
    const ref = decodeStepRef(action.value);
    let reply: CommandReply | undefined;
    if (!ref) {
      log.warn('step decision click with an unreadable button value');
      reply = errorReply({
        problem: 'This button does not belong to a step any more.',
        next: 'Use the latest approval request in the thread, or `/migrate status` to see where things stand.',
      });
    } else {
      const request: StepDecisionRequest = { ...ref, userId };
      const channelId = body.channel?.id ?? body.container?.channel_id;
      if (channelId) request.channelId = channelId;
      const messageTs = body.message?.ts ?? body.container?.message_ts;
      if (messageTs) request.messageTs = messageTs;
      log.info({ migrationId: ref.migrationId, stepId: ref.stepId }, 'step decision click');
      try {
        reply = await deps.decisions[kind](request);
      } catch (err) {
        reply = failureReply(err, log, { migrationId: ref.migrationId, stepId: ref.stepId });
      }
    }
    if (!reply) return;
    try {
      await respond(ephemeral(reply));
    } catch (err) {
      log.warn({ error: String(err) }, 'could not reply through response_url');
    }
  };
}
