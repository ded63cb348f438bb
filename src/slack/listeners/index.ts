// Listener registration by Slack surface (the Bolt TS starter layout): each surface folder has a
// register(app, deps), one file per listener (its exported callback) and, where the work needs the
// runbook, a handler module named after it beside it. Listeners are thin: parse, ack, forward to
// the handler, show the answer; each surface ends with its "not ours" listener (unknown-*.ts).
import type { App } from '@slack/bolt';
import * as actions from './actions/index.js';
import * as commands from './commands/index.js';
import type { SlackDeps } from './deps.js';
import * as events from './events/index.js';
import * as views from './views/index.js';

export type { SlackDeps } from './deps.js';

export function registerListeners(app: App, deps: SlackDeps): void {
  commands.register(app, deps);
  actions.register(app, deps);
  views.register(app, deps);
  events.register(app, deps);
}
