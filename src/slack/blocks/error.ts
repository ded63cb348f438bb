import { scrub } from '../../util/secrets.js';
import { contextBlock, message, type SlackMessage, section } from './message.js';
import { escapeMrkdwn } from './text.js';

export interface ErrorReplyView {
  /** What went wrong, in plain words (escaped here; `code` spans still render). */
  problem: string;
  /** What the person can do about it; mrkdwn written by us, so mentions and links are kept. */
  next?: string;
  /** The right form of the command, shown as a code block. */
  usage?: string;
}

/** An ephemeral reply for a refusal or failure: what was wrong, the right form, what to do next. */
export function errorReply(view: ErrorReplyView): SlackMessage {
  const blocks = [section(`:warning: ${escapeMrkdwn(view.problem)}`)];
  if (view.usage)
    blocks.push(section(`Usage:\n\`\`\`${escapeMrkdwn(view.usage).replace(/```/g, "'''")}\`\`\``));
  if (view.next) blocks.push(contextBlock(scrub(view.next)));
  return message(scrub(view.problem), blocks);
}
