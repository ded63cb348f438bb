// Step button clicks: ack at once, read the opaque step reference from the button, and forward
// the click with the clicker's user id (from the signed payload). Whether it counts is the
// runbook's decision; the messages themselves are updated from the runbook's events, not from here.
// Reject opens a dialog first (confirmation + optional reason); the rejection is made on submit.
import type {
  AllMiddlewareArgs,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
  webApi,
} from '@slack/bolt';
import { decodeStepRef } from '../../blocks/approval.js';
import { errorReply } from '../../blocks/error.js';
import { rejectModal } from '../../blocks/reject-modal.js';
import type { CommandReply, SlackDeps, StepDecisionKind, StepDecisionRequest } from '../deps.js';
import { ephemeral, failureReply } from '../reply.js';

type Args = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> &
  Pick<AllMiddlewareArgs, 'logger'> & { client?: webApi.WebClient };

const STALE_BUTTON = errorReply({
  problem: 'This button does not belong to a step any more.',
  next: 'Use the latest request in the thread, or `/migrate status` to see where things stand.',
});

/** The click as a request: the step reference from the button, the clicker and the message. */
function requestFrom(body: Args['body'], value: unknown): StepDecisionRequest | undefined {
  const ref = decodeStepRef(value);
  if (!ref) return undefined;
  const request: StepDecisionRequest = { ...ref, userId: body.user.id };
  const channelId = body.channel?.id ?? body.container?.channel_id;
  if (channelId) request.channelId = channelId;
  const messageTs = body.message?.ts ?? body.container?.message_ts;
  if (messageTs) request.messageTs = messageTs;
  const threadTs =
    (body.message as { thread_ts?: string } | undefined)?.thread_ts ?? body.container?.thread_ts;
  if (typeof threadTs === 'string') request.threadTs = threadTs;
  return request;
}

export function stepDecision(kind: StepDecisionKind, deps: Pick<SlackDeps, 'decisions' | 'logger'>) {
  return async ({ ack, body, action, respond }: Args): Promise<void> => {
    try {
      await ack();
    } catch (err) {
      deps.logger.error({ error: String(err) }, `could not ack ${kind} click`);
      return;
    }
    const userId = body.user.id;
    const log = deps.logger.child({ user: userId, action: kind });
    const request = requestFrom(body, action.value);
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
    if (!reply) return;
    try {
      await respond(ephemeral(reply));
    } catch (err) {
      log.warn({ error: String(err) }, 'could not reply through response_url');
    }
  };
}

/**
 * Reject: open the dialog straight away (the trigger_id is good for about 3 seconds, so nothing
 * slow may come first). The dialog carries the step reference; nothing is decided yet.
 */
export function rejectClicked(deps: Pick<SlackDeps, 'logger'>) {
  return async ({ ack, body, action, respond, client }: Args): Promise<void> => {
    try {
      await ack();
    } catch (err) {
      deps.logger.error({ error: String(err) }, 'could not ack reject click');
      return;
    }
    const log = deps.logger.child({ user: body.user.id, action: 'reject' });
    const request = requestFrom(body, action.value);
    let problem: CommandReply | undefined;
    if (!request) {
      log.warn('reject click with an unreadable button value');
      problem = STALE_BUTTON;
    } else if (!client) {
      problem = errorReply({ problem: 'The rejection dialog could not be opened.' });
    } else {
      try {
        const origin: Parameters<typeof rejectModal>[1] = {};
        if (request.channelId) origin.channelId = request.channelId;
        if (request.threadTs) origin.threadTs = request.threadTs;
        if (request.messageTs) origin.messageTs = request.messageTs;
        await client.views.open({
          trigger_id: body.trigger_id,
          view: rejectModal(request, origin) as unknown as webApi.ViewsOpenArguments['view'],
        });
        log.info({ migrationId: request.migrationId, stepId: request.stepId }, 'reject dialog opened');
      } catch (err) {
        log.warn({ error: String(err) }, 'could not open the reject dialog');
        problem = errorReply({
          problem: 'The rejection dialog could not be opened.',
          next: 'Click Reject again (Slack allows only a few seconds to open it).',
        });
      }
    }
    if (!problem) return;
    try {
      await respond(ephemeral(problem));
    } catch (err) {
      log.warn({ error: String(err) }, 'could not reply through response_url');
    }
  };
}
