// Turning handler results and failures into what the person sees, without leaking internals.
import { randomBytes } from 'node:crypto';
import type { RespondFn } from '@slack/bolt';
import { errorMessage, UserError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { errorReply } from '../blocks/error.js';
import type { SlackMessage } from '../blocks/message.js';
import { SlackRefusal } from '../errors.js';
import { redactCredentials } from '../logger-adapter.js';

/** Shown only to the person who asked (ephemeral); channel posts go through the gateway. */
export type CommandReply = SlackMessage;

/** Fields for an ephemeral reply through `ack()` or `respond()`. */
export function ephemeral(message: SlackMessage) {
  return {
    response_type: 'ephemeral' as const,
    replace_original: false,
    text: message.text,
    blocks: message.blocks,
  };
}

/**
 * Sends an ephemeral reply through the request's response_url. A failure is logged, not thrown:
 * the request was acked and its work done; only this message is lost.
 */
export async function replyEphemeral(respond: RespondFn, message: SlackMessage, log: Logger): Promise<void> {
  try {
    await respond(ephemeral(message));
  } catch (err) {
    log.warn({ error: String(err) }, 'could not reply through response_url');
  }
}

/**
 * The reply for a failed handler: a UserError's message as is; anything else as a generic
 * failure with a reference to find the logged details.
 */
export function failureReply(err: unknown, logger: Logger, context: Record<string, unknown>): SlackMessage {
  if (err instanceof UserError) {
    logger.info({ ...context, error: err.message }, 'request refused');
    const view: Parameters<typeof errorReply>[0] = { problem: err.message };
    if (err instanceof SlackRefusal && err.next) view.next = err.next;
    if (err instanceof SlackRefusal && err.usage) view.usage = err.usage;
    return errorReply(view);
  }
  const ref = randomBytes(4).toString('hex');
  logger.error({ ...context, ref, error: redactCredentials(errorMessage(err)) }, 'request failed');
  return errorReply({
    problem: 'Something went wrong while doing that.',
    next: `Try again in a moment; if it keeps failing, the app logs have the details under ref ${ref}.`,
  });
}
