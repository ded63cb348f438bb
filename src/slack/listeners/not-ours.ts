// Requests that are well formed but name nothing this app handles: a button or dialog from an
// older version, a slash command pointed at this app by mistake. Without these listeners Bolt
// never acknowledges them and Slack shows a timeout; with them the person reads what to do.
import type { App, types } from '@slack/bolt';
import { errorReply } from '../blocks/error.js';
import { SLASH_COMMAND } from '../slash-command/usage.js';
import type { SlackDeps } from './deps.js';
import { ephemeral } from './reply.js';

/** Matches every id except the given ones (Bolt constraints take a RegExp). */
export function anyExcept(ids: readonly string[]): RegExp {
  const alternatives = ids.map((id) => id.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|');
  return new RegExp(`^(?!(?:${alternatives})$)`);
}

export const UNKNOWN_BUTTON = errorReply({
  problem: 'That button is not one this app knows (it may be from an older version of it).',
  next: 'Use the latest message in the migration thread, or `/migrate status` to see where things stand.',
});

export const UNKNOWN_COMMAND = errorReply({
  problem: `This app answers only ${SLASH_COMMAND}.`,
  next: `Try \`${SLASH_COMMAND} help\`.`,
});

export function registerUnknownAction(
  app: App,
  handled: readonly string[],
  deps: Pick<SlackDeps, 'logger'>,
): void {
  app.action({ type: 'block_actions', action_id: anyExcept(handled) }, async ({ ack, respond, body }) => {
    await ack();
    deps.logger.warn({ user: body.user.id }, 'click on a button this app does not know');
    await respond(ephemeral(UNKNOWN_BUTTON)).catch((err) =>
      deps.logger.warn({ error: String(err) }, 'could not reply through response_url'),
    );
  });
}

export function registerUnknownCommand(app: App, deps: Pick<SlackDeps, 'logger'>): void {
  app.command(anyExcept([SLASH_COMMAND]), async ({ ack, command }) => {
    deps.logger.warn({ user: command.user_id }, 'a slash command this app does not handle');
    await ack({ response_type: 'ephemeral', text: UNKNOWN_COMMAND.text, blocks: UNKNOWN_COMMAND.blocks });
  });
}

export function registerUnknownView(
  app: App,
  handled: readonly string[],
  deps: Pick<SlackDeps, 'logger'>,
): void {
  app.view({ type: 'view_submission', callback_id: anyExcept(handled) }, async ({ ack, body }) => {
    deps.logger.warn({ user: body.user.id }, 'submission of a dialog this app does not know');
    await ack({ response_action: 'update', view: unknownDialog() });
  });
}

/** Replaces a dialog this app cannot act on (unknown, or its hidden data unreadable). */
export function unknownDialog(): types.ModalView {
  return {
    type: 'modal',
    title: { type: 'plain_text', text: 'migration-buddy' },
    close: { type: 'plain_text', text: 'Close' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: ':warning: This dialog is not one this app knows (it may be from an older version of it); nothing was done. Close it and start again from the migration thread.',
        },
      },
    ],
  };
}
