// Keyspace-notification channels: which patterns to PSUBSCRIBE to, and how to read a message.
//   keyevent: channel `__keyevent@<db>__:<event>`, message = key
//   keyspace: channel `__keyspace@<db>__:<key>`,   message = event
// Keys are binary: channels and messages are handled as Buffers, never decoded as UTF-8.

import type { NotifyChannelKind } from './notify-config.js';

export interface KeyNotification {
  db: number;
  event: string;
  key: Buffer;
}

/** One pattern per selected db, or a single wildcard pattern for every db. */
export function subscriptionPatterns(kind: NotifyChannelKind, dbs: 'all' | readonly number[]): string[] {
  const prefix = kind === 'keyevent' ? '__keyevent@' : '__keyspace@';
  if (dbs === 'all') return [`${prefix}*__:*`];
  return [...new Set(dbs)].sort((a, b) => a - b).map((db) => `${prefix}${db}__:*`);
}

const KEYEVENT = Buffer.from('__keyevent@');
const KEYSPACE = Buffer.from('__keyspace@');
const SEPARATOR = Buffer.from('__:');

/** Reads a notification; null for anything that is not one (never throws on odd input). */
export function parseNotification(
  kind: NotifyChannelKind,
  channel: Buffer,
  message: Buffer,
): KeyNotification | null {
  const prefix = kind === 'keyevent' ? KEYEVENT : KEYSPACE;
  if (channel.length <= prefix.length || !channel.subarray(0, prefix.length).equals(prefix)) return null;
  const sep = channel.indexOf(SEPARATOR, prefix.length);
  if (sep <= prefix.length) return null;
  let db = 0;
  for (let i = prefix.length; i < sep; i++) {
    const d = channel[i]! - 0x30;
    if (d < 0 || d > 9) return null;
    db = db * 10 + d;
  }
  const rest = channel.subarray(sep + SEPARATOR.length);
  if (kind === 'keyevent') return { db, event: rest.toString('latin1'), key: message };
  return { db, event: message.toString('latin1'), key: Buffer.from(rest) };
}

/** Events after which the key may be gone: counted to tell FLUSHDB-like drops from ordinary deletes. */
export const KEY_REMOVING_EVENTS: ReadonlySet<string> = new Set([
  'del',
  'expired',
  'evicted',
  'rename_from',
  'move_from',
]);

/** Events that never change data: key misses (m) and the extra `new` event (n). */
export const NON_CHANGING_EVENTS: ReadonlySet<string> = new Set(['keymiss', 'new']);
