// What the Slack listeners need from the rest of the app. Slack only shows and forwards: every
// decision is taken behind these interfaces (the runbook), so wiring them is a small adapter.
import type { Config } from '../../config/load.js';
import type { Logger } from '../../util/logger.js';
import type { StepRef } from '../blocks/approval.js';
import type { SlackMessage } from '../blocks/message.js';
import type { KnownBlock } from '../blocks/text.js';
import type { SlackGateway } from '../gateway.js';
import type { MigrateCommand, PlanCommand } from '../slash-command/parse.js';

/** Who asked, and where. Identity is the Slack user id, never a name. */
export interface CommandRequest {
  userId: string;
  channelId: string;
  teamId?: string;
}

/** Shown only to the person who asked (ephemeral); channel posts go through the gateway. */
export type CommandReply = SlackMessage;

type Of<K extends MigrateCommand['kind']> = Extract<MigrateCommand, { kind: K }>;

/**
 * The /migrate subcommands that need the runbook. Each may return a reply for the requester, and
 * may throw a UserError whose message is shown to them as is (anything else is logged and shown
 * as a generic failure).
 */
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

/** A click on a step's button: which step version, by whom, on which message. */
export interface StepDecisionRequest extends StepRef {
  userId: string;
  channelId?: string;
  messageTs?: string;
  /** The thread the clicked message is in (the migration's root message). */
  threadTs?: string;
  /** Rejections: what the person wrote in the dialog (already checked for pasted secrets). */
  reason?: string;
}

/**
 * Step button clicks, forwarded as is. The runbook decides whether the click counts (not the
 * requester, the right person, the current step hash, not expired, not decided yet) and updates
 * the messages from its own events; the reply here is only for the clicker (e.g. a refusal).
 */
export interface StepDecisionHandlers {
  approve(request: StepDecisionRequest): Promise<CommandReply | undefined>;
  reject(request: StepDecisionRequest): Promise<CommandReply | undefined>;
  /** "Done" on a step waiting for a person to confirm an outside action. */
  confirm(request: StepDecisionRequest): Promise<CommandReply | undefined>;
  /** Run a failed step again. */
  retry(request: StepDecisionRequest): Promise<CommandReply | undefined>;
  /** Ask again for an approval that expired. */
  requestAgain(request: StepDecisionRequest): Promise<CommandReply | undefined>;
}

export type StepDecisionKind = keyof StepDecisionHandlers;

export interface SlackDeps {
  config: Pick<Config, 'file' | 'endpoints' | 'resolvedEndpoints' | 'slack'>;
  commands: MigrateCommandHandlers;
  decisions: StepDecisionHandlers;
  gateway: SlackGateway;
  logger: Logger;
  /** Extra App Home blocks for a user (e.g. their migrations); the home shows help and endpoints without it. */
  homeBlocks?: (userId: string) => Promise<KnownBlock[]>;
}
