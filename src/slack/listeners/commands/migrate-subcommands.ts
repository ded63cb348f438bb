// What the /migrate listener hands over after its ack: the parsed subcommand and who asked. Each
// handler may return a reply for the requester, and may throw a UserError whose message is shown
// to them as is (anything else is logged and shown as a generic failure). Also the lookups every
// handler shares, so a name or id that does not exist is refused the same way everywhere.
import type { Config } from '../../../config/load.js';
import type { Endpoint } from '../../../redis/endpoint.js';
import type { Migration } from '../../../runbook/model.js';
import type { MigrationService } from '../../../runbook/service.js';
import { unknownEndpointRefusal } from '../../blocks/endpoints.js';
import { SlackRefusal } from '../../errors.js';
import type { MigrateCommand, PlanCommand } from '../../slash-command/parse.js';
import { USAGE } from '../../slash-command/usage.js';
import type { CommandReply } from '../reply.js';

/** Who asked, and where. Identity is the Slack user id, never a name. */
export interface CommandRequest {
  userId: string;
  channelId: string;
  teamId?: string;
}

type Of<K extends MigrateCommand['kind']> = Extract<MigrateCommand, { kind: K }>;

/** The /migrate subcommands that need the runbook (help and endpoints are answered in the ack). */
export interface MigrateCommandHandlers {
  plan(command: PlanCommand, request: CommandRequest): Promise<CommandReply | undefined>;
  status(command: Of<'status'>, request: CommandRequest): Promise<CommandReply | undefined>;
  list(command: Of<'list'>, request: CommandRequest): Promise<CommandReply | undefined>;
  verify(command: Of<'verify'>, request: CommandRequest): Promise<CommandReply | undefined>;
  abort(command: Of<'abort'>, request: CommandRequest): Promise<CommandReply | undefined>;
  audit(command: Of<'audit'>, request: CommandRequest): Promise<CommandReply | undefined>;
  /** Clears the stale locks of the server an endpoint names. */
  unlock(command: Of<'unlock'>, request: CommandRequest): Promise<CommandReply | undefined>;
}

/** The configured endpoint of that name. */
export function configuredEndpoint(
  config: Pick<Config, 'file' | 'resolvedEndpoints'>,
  name: string,
  usage = USAGE.plan,
): Endpoint {
  const found = config.resolvedEndpoints.get(name);
  if (found) return found;
  // The listener refuses unknown names with their role; this is the backstop (config changed).
  const refusal = unknownEndpointRefusal(config, []);
  throw new SlackRefusal(refusal.problem, refusal.next, usage);
}

/** The migration with that id. */
export async function existingMigration(
  service: Pick<MigrationService, 'get'>,
  id: string,
  usage?: string,
): Promise<Migration> {
  const m = await service.get(id);
  if (!m) throw noSuchMigration(usage);
  return m;
}

/** The id is not repeated: only an id that exists names something. */
export function noSuchMigration(usage?: string): SlackRefusal {
  return new SlackRefusal(
    'There is no migration with that id.',
    '`/migrate list` shows the recent ones.',
    usage,
  );
}
