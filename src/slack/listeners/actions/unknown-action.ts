// A click on a button this app does not know (from an older version of it): acked, and the person
// is told what to use instead.
import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { errorReply } from '../../blocks/error.js';
import type { SlackDeps } from '../deps.js';
import { replyEphemeral } from '../reply.js';

type Args = SlackActionMiddlewareArgs<BlockAction> & Pick<AllMiddlewareArgs, 'logger'>;

export const UNKNOWN_BUTTON = errorReply({
  problem: 'That button is not one this app knows (it may be from an older version of it).',
  next: 'Use the latest message in the migration thread, or `/migrate status` to see where things stand.',
});

export function unknownAction(deps: Pick<SlackDeps, 'logger'>) {
  return async ({ ack, respond, body }: Args): Promise<void> => {
    await ack();
    deps.logger.warn({ user: body.user.id }, 'click on a button this app does not know');
    await replyEphemeral(respond, UNKNOWN_BUTTON, deps.logger);
  };
}
