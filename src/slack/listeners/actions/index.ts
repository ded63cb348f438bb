import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { APPROVE_ACTION_ID, REJECT_ACTION_ID } from '../../blocks/approval.js';
import type { SlackDeps } from '../deps.js';
import { stepDecision } from './step-decision.js';

export function register(app: App, deps: SlackDeps): void {
  app.action<BlockAction<ButtonAction>>(
    { type: 'block_actions', action_id: APPROVE_ACTION_ID },
    stepDecision('approve', deps),
  );
  app.action<BlockAction<ButtonAction>>(
    { type: 'block_actions', action_id: REJECT_ACTION_ID },
    stepDecision('reject', deps),
  );
}
