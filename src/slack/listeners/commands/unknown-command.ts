// A slash command pointed at this app that is not /migrate: answered in the ack with what this
// app does answer.
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { errorReply } from '../../blocks/error.js';
import { SLASH_COMMAND } from '../../slash-command/usage.js';
import type { SlackDeps } from '../deps.js';

type Args = SlackCommandMiddlewareArgs & Pick<AllMiddlewareArgs, 'logger'>;

export const UNKNOWN_COMMAND = errorReply({
  problem: `This app answers only ${SLASH_COMMAND}.`,
  next: `Try \`${SLASH_COMMAND} help\`.`,
});

export function unknownCommand(deps: Pick<SlackDeps, 'logger'>) {
  return async ({ ack, command }: Args): Promise<void> => {
    deps.logger.warn({ user: command.user_id }, 'a slash command this app does not handle');
    await ack({ response_type: 'ephemeral', text: UNKNOWN_COMMAND.text, blocks: UNKNOWN_COMMAND.blocks });
  };
}
