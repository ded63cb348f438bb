// The submission of a dialog this app does not know (from an older version of it): the dialog is
// replaced by one that says nothing was done.
import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { unknownDialog } from '../../blocks/unknown-dialog.js';
import type { SlackDeps } from '../deps.js';

type Args = SlackViewMiddlewareArgs<ViewSubmitAction> & Pick<AllMiddlewareArgs, 'logger'>;

export function unknownView(deps: Pick<SlackDeps, 'logger'>) {
  return async ({ ack, body }: Args): Promise<void> => {
    deps.logger.warn({ user: body.user.id }, 'submission of a dialog this app does not know');
    await ack({ response_action: 'update', view: unknownDialog() });
  };
}
