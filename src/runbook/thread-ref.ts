// Where a migration's chat thread is, recorded in its meta when it was planned in Slack: the root
// message (the status card) as channel + ts. Here, beside the model, because more than the Slack
// adapter reads it (the CLI names the thread of the migration that holds a server's lock).
import type { Migration } from './model.js';

export const META_CHANNEL = 'slackChannel';
export const META_TS = 'slackTs';

/** A message in a channel (the same shape as the Slack gateway's MessageRef). */
export interface ThreadRef {
  channel: string;
  ts: string;
}

/** The migration's root message, when it was planned in Slack. */
export function rootOf(m: Pick<Migration, 'meta'>): ThreadRef | undefined {
  const channel = m.meta?.[META_CHANNEL];
  const ts = m.meta?.[META_TS];
  return channel && ts ? { channel, ts } : undefined;
}

/** The meta entries that record `ref` as the migration's root message. */
export function rootMeta(ref: ThreadRef): Record<string, string> {
  return { [META_CHANNEL]: ref.channel, [META_TS]: ref.ts };
}
