import type { App } from '@slack/bolt';
import { SLASH_COMMAND } from '../../slash-command/usage.js';
import { anyExcept } from '../any-except.js';
import type { SlackDeps } from '../deps.js';
import { migrateCommand } from './migrate.js';
import { unknownCommand } from './unknown-command.js';

export function register(app: App, deps: SlackDeps): void {
  app.command(SLASH_COMMAND, migrateCommand(deps));
  app.command(anyExcept([SLASH_COMMAND]), unknownCommand(deps));
}
