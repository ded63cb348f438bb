import type { App } from '@slack/bolt';
import { REJECT_MODAL_CALLBACK_ID } from '../../blocks/reject-modal.js';
import type { SlackDeps } from '../deps.js';
import { registerUnknownView } from '../not-ours.js';
import { rejectSubmitted } from './reject-step.js';

export function register(app: App, deps: SlackDeps): void {
  app.view({ type: 'view_submission', callback_id: REJECT_MODAL_CALLBACK_ID }, rejectSubmitted(deps));
  registerUnknownView(app, [REJECT_MODAL_CALLBACK_ID], deps);
}
