// Reject: open the dialog straight away (the trigger_id is good for about 3 seconds, so nothing
// slow may come first). The dialog carries the step reference; nothing is decided until it is
// submitted (views/reject-step.ts).
import type {
  AllMiddlewareArgs,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
  webApi,
} from '@slack/bolt';
import { errorReply } from '../../blocks/error.js';
import { rejectModal } from '../../blocks/reject-modal.js';
import type { SlackDeps } from '../deps.js';
import type { CommandReply } from '../reply.js';
import { replyEphemeral } from '../reply.js';
import { STALE_BUTTON, stepClickRequest } from './step-click.js';

type Args = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> &
  Pick<AllMiddlewareArgs, 'logger'> & { client?: webApi.WebClient };

export function rejectClicked(deps: Pick<SlackDeps, 'logger'>) {
  return async ({ ack, body, action, respond, client }: Args): Promise<void> => {
    try {
      await ack();
    } catch (err) {
      deps.logger.error({ error: String(err) }, 'could not ack reject click');
      return;
    }
    const log = deps.logger.child({ user: body.user.id, action: 'reject' });
    const request = stepClickRequest(body, action.value);
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
    if (problem) await replyEphemeral(respond, problem, log);
  };
}
