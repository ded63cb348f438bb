// When the control Redis loses a migration, its audit stream (what the event relay turns into
// thread replies) is gone with it: the worker that put the source back posts straight into the
// thread, through the gateway this process holds, with the thread taken from its last copy.
import type { ControlLost } from '../../strategies/live-phase/index.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { message, section } from '../blocks/message.js';
import { escapeMrkdwn } from '../blocks/text.js';
import type { SlackGateway } from '../gateway.js';
import { rootOf } from './message-store.js';

export async function postControlLost(
  gateway: Pick<SlackGateway, 'postThreadReply'>,
  lost: ControlLost,
  log: Logger,
): Promise<void> {
  const root = lost.migration ? rootOf(lost.migration) : undefined;
  if (!root) {
    log.warn({ migrationId: lost.migrationId }, 'migration lost by the control Redis: no Slack thread known');
    return;
  }
  const text = `:warning: ${lost.message}`;
  try {
    await gateway.postThreadReply(root, message(text, [section(escapeMrkdwn(text))]));
  } catch (err) {
    log.warn(
      { migrationId: lost.migrationId, err: errorMessage(err) },
      'could not post the lost migration in its thread',
    );
  }
}
