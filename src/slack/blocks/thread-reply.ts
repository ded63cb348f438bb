// One event of a migration as a reply in its thread: what happened, the details that matter (e.g.
// key counts per database), what to do next, and at most one follow-up button.
import type { types } from '@slack/bolt';
import { LIMITS } from './limits.js';
import { contextBlock, message, type SlackMessage, section } from './message.js';
import { fitLines, type KnownBlock, plain, truncate } from './text.js';

export interface ThreadReplyAction {
  actionId: string;
  text: string;
  /** Opaque reference (see encodeStepRef). */
  value: string;
  style?: 'primary' | 'danger';
  /** A confirmation dialog: title and text. */
  confirm?: { title: string; text: string; button: string };
}

export interface ThreadReplyView {
  /** An emoji code such as ':white_check_mark:'. */
  icon: string;
  /** mrkdwn, already escaped by the caller (it may hold mentions). */
  text: string;
  /** Further lines (mrkdwn, escaped), cut to fit. */
  details?: string[];
  /** What people can do about it (mrkdwn, escaped). */
  next?: string;
  /** Short context items: time, step, actor. */
  context: string[];
  action?: ThreadReplyAction;
  /** Plain notification text. */
  fallback: string;
}

const BUDGET = { text: 2500, details: 2500, next: 1000 } as const;

export function threadReply(view: ThreadReplyView): SlackMessage {
  const blocks: KnownBlock[] = [section(truncate(`${view.icon} ${view.text}`, BUDGET.text))];
  if (view.details && view.details.length > 0) {
    blocks.push(section(fitLines(view.details, BUDGET.details, 'more')));
  }
  if (view.next) blocks.push(section(truncate(`*Next:* ${view.next}`, BUDGET.next)));
  if (view.action) {
    const a = view.action;
    const button: types.Button = {
      type: 'button',
      action_id: a.actionId,
      text: plain(a.text, LIMITS.buttonText),
      value: a.value,
    };
    if (a.style) button.style = a.style;
    if (a.confirm) {
      button.confirm = {
        title: plain(a.confirm.title, LIMITS.confirmTitle),
        text: plain(a.confirm.text, LIMITS.confirmText),
        confirm: plain(a.confirm.button, LIMITS.confirmButton),
        deny: plain('Cancel', LIMITS.confirmButton),
      };
    }
    blocks.push({ type: 'actions', block_id: 'mb_follow_up', elements: [button] });
  }
  if (view.context.length > 0) blocks.push(contextBlock(...view.context));
  return message(view.fallback, blocks);
}
