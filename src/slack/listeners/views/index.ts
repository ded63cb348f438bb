import type { App } from '@slack/bolt';
import { REJECT_MODAL_CALLBACK_ID } from '../../blocks/reject-modal.js';
import { anyExcept } from '../any-except.js';
import type { SlackDeps } from '../deps.js';
import { rejectSubmitted } from './reject-step.js';
import { unknownView } from './unknown-view.js';

export function register(app: App, deps: SlackDeps): void {
  app.view({ type: 'view_submission', callback_id: REJECT_MODAL_CALLBACK_ID }, rejectSubmitted(deps));
  app.view(
    { type: 'view_submission', callback_id: anyExcept([REJECT_MODAL_CALLBACK_ID]) },
    unknownView(deps),
  );
}
