// What every step button click carries: the opaque step reference in the button's value, the
// clicker (from the signed payload) and the message it was on.
import type { BlockAction, ButtonAction } from '@slack/bolt';
import { decodeStepRef } from '../../blocks/approval.js';
import { errorReply } from '../../blocks/error.js';
import type { StepDecisionRequest } from './step-decision-handlers.js';

export const STALE_BUTTON = errorReply({
  problem: 'This button does not belong to a step any more.',
  next: 'Use the latest request in the thread, or `/migrate status` to see where things stand.',
});

/** The click as a request, or undefined when the button's value is not a step reference. */
export function stepClickRequest(
  body: BlockAction<ButtonAction>,
  value: unknown,
): StepDecisionRequest | undefined {
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
