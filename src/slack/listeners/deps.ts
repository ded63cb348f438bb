// What the Slack listeners need from the rest of the app. Slack only shows and forwards: every
// decision is taken by the handlers behind these interfaces (each beside its listener, answered by
// the runbook), so the app shell can be tested with stand-ins and serve wires the real ones.
import type { Config } from '../../config/load.js';
import type { MigrationService } from '../../runbook/service.js';
import type { Logger } from '../../util/logger.js';
import type { SlackGateway } from '../gateway.js';
import type { StepDecisionHandlers } from './actions/step-decision-handlers.js';
import type { MigrateCommandHandlers } from './commands/migrate-subcommands.js';

export interface SlackDeps {
  config: Pick<Config, 'file' | 'endpoints' | 'resolvedEndpoints' | 'slack'>;
  commands: MigrateCommandHandlers;
  decisions: StepDecisionHandlers;
  gateway: SlackGateway;
  logger: Logger;
  /** The runbook's migrations, listed in the App Home; without it the home shows help and endpoints. */
  migrations?: Pick<MigrationService, 'list'>;
}
