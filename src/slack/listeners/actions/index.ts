import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import {
  APPROVE_ACTION_ID,
  CONFIRM_ACTION_ID,
  REJECT_ACTION_ID,
  REREQUEST_ACTION_ID,
  RETRY_ACTION_ID,
} from '../../blocks/approval.js';
import { anyExcept } from '../any-except.js';
import type { SlackDeps } from '../deps.js';
import { rejectClicked } from './reject-clicked.js';
import { stepDecision } from './step-decision.js';
import { unknownAction } from './unknown-action.js';

/** Every button this app puts in a message; a click on any other gets an ephemeral explanation. */
export const HANDLED_ACTION_IDS = [
  APPROVE_ACTION_ID,
  REJECT_ACTION_ID,
  CONFIRM_ACTION_ID,
  RETRY_ACTION_ID,
  REREQUEST_ACTION_ID,
] as const;

export function register(app: App, deps: SlackDeps): void {
  const button = (action_id: string) => ({ type: 'block_actions' as const, action_id });
  app.action<BlockAction<ButtonAction>>(button(APPROVE_ACTION_ID), stepDecision('approve', deps));
  app.action<BlockAction<ButtonAction>>(button(REJECT_ACTION_ID), rejectClicked(deps));
  app.action<BlockAction<ButtonAction>>(button(CONFIRM_ACTION_ID), stepDecision('confirm', deps));
  app.action<BlockAction<ButtonAction>>(button(RETRY_ACTION_ID), stepDecision('retry', deps));
  app.action<BlockAction<ButtonAction>>(button(REREQUEST_ACTION_ID), stepDecision('requestAgain', deps));
  app.action({ type: 'block_actions', action_id: anyExcept(HANDLED_ACTION_IDS) }, unknownAction(deps));
}
