// The /migrate command: ack at once (Slack allows 3 s, and Socket Mode does not even warn), answer
// help and endpoints from the config right in the ack, and hand everything else to its subcommand
// handler (migrate-handlers.ts, which the runbook answers).
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { endpointSummaries, endpointsMessage, unknownEndpointRefusal } from '../../blocks/endpoints.js';
import { errorReply } from '../../blocks/error.js';
import { helpMessage } from '../../blocks/help.js';
import { type MigrateCommand, type PlanCommand, parseMigrateCommand } from '../../slash-command/parse.js';
import { USAGE } from '../../slash-command/usage.js';
import type { SlackDeps } from '../deps.js';
import { type CommandReply, failureReply, replyEphemeral } from '../reply.js';
import type { CommandRequest } from './migrate-subcommands.js';

type Args = SlackCommandMiddlewareArgs & Pick<AllMiddlewareArgs, 'logger'>;

export function migrateCommand(deps: Pick<SlackDeps, 'config' | 'commands' | 'logger'>) {
  return async ({ command, ack, respond }: Args): Promise<void> => {
    const request: CommandRequest = { userId: command.user_id, channelId: command.channel_id };
    if (command.team_id) request.teamId = command.team_id;
    // Never log the text itself: it may hold a pasted password.
    const log = deps.logger.child({ user: request.userId, channel: request.channelId });

    let immediate: CommandReply | undefined;
    let routed: MigrateCommand | undefined;
    try {
      const parsed = parseMigrateCommand(command.text ?? '');
      if (!parsed.ok) {
        log.info({ sensitive: parsed.sensitive ?? false }, '/migrate refused: bad input');
        immediate = errorReply({ problem: parsed.error, usage: parsed.usage });
      } else if (parsed.command.kind === 'help') {
        immediate = helpMessage(parsed.command.topic);
      } else if (!channelAllowed(deps.config, request.channelId)) {
        immediate = errorReply({
          problem: '/migrate is not enabled in this channel.',
          next: `Use it in ${allowedChannels(deps.config)}.`,
        });
      } else if (parsed.command.kind === 'endpoints') {
        immediate = endpointsMessage(endpointSummaries(deps.config), deps.config.file);
      } else if (parsed.command.kind === 'plan' && unknownEndpoints(deps.config, parsed.command).length > 0) {
        const refusal = unknownEndpointRefusal(deps.config, unknownEndpoints(deps.config, parsed.command));
        immediate = errorReply({ ...refusal, usage: USAGE.plan });
      } else {
        routed = parsed.command;
        if (routed.kind === 'plan') {
          // Both names are configured endpoints here, so repeating them echoes nothing typed.
          immediate = {
            text: `Planning ${routed.source} → ${routed.target}: probing both servers…`,
            blocks: [],
          };
        }
      }
    } catch (err) {
      immediate = failureReply(err, log, { command: 'migrate' });
    }

    try {
      await ack(immediate ? ackBody(immediate) : undefined);
    } catch (err) {
      log.error({ error: String(err) }, 'could not ack /migrate');
      return;
    }
    if (!routed) return;

    log.info({ subcommand: routed.kind }, '/migrate');
    let reply: CommandReply | undefined;
    try {
      reply = await route(deps, routed, request);
    } catch (err) {
      reply = failureReply(err, log, { subcommand: routed.kind });
    }
    if (reply) await replyEphemeral(respond, reply, log);
  };
}

/** The subcommand's handler; help and endpoints were answered in the ack. */
function route(
  deps: Pick<SlackDeps, 'commands'>,
  command: MigrateCommand,
  request: CommandRequest,
): Promise<CommandReply | undefined> {
  if (command.kind === 'help' || command.kind === 'endpoints') return Promise.resolve(undefined);
  // Each handler is named after the kind it takes (MigrateCommandHandlers says so, by type).
  const handler = deps.commands[command.kind] as (
    command: MigrateCommand,
    request: CommandRequest,
  ) => Promise<CommandReply | undefined>;
  return handler.call(deps.commands, command, request);
}

/** A slash command's ack may carry the reply itself: the fastest answer, in HTTP and Socket Mode alike. */
function ackBody(reply: CommandReply) {
  return {
    response_type: 'ephemeral' as const,
    text: reply.text,
    ...(reply.blocks.length > 0 ? { blocks: reply.blocks } : {}),
  };
}

function unknownEndpoints(config: SlackDeps['config'], command: PlanCommand): ('source' | 'target')[] {
  return (['source', 'target'] as const).filter((role) => !config.resolvedEndpoints.has(command[role]));
}

function channelAllowed(config: SlackDeps['config'], channelId: string): boolean {
  const channels = config.slack?.channels ?? [];
  return channels.length === 0 || channels.includes(channelId);
}

function allowedChannels(config: SlackDeps['config']): string {
  return (config.slack?.channels ?? []).map((c) => `<#${c}>`).join(', ');
}
