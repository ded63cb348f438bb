import type { App } from '@slack/bolt';
import { SLASH_COMMAND } from '../../slash-command/usage.js';
import type { SlackDeps } from '../deps.js';
import { registerUnknownCommand } from '../not-ours.js';
import { migrateCommand } from './migrate.js';

export function register(app: App, deps: SlackDeps): void {
  app.command(SLASH_COMMAND, migrateCommand(deps));
  registerUnknownCommand(app, deps);
}
