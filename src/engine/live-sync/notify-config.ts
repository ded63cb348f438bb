// notify-keyspace-events: what live sync needs, what the server has, and what to tell people.
//
// Flags (redis.conf): K keyspace channel, E keyevent channel, g generic (DEL, EXPIRE, RENAME...),
// $ string, l list, s set, h hash, z sorted set, t stream, x expired, e evicted, d module types,
// m key miss, n new key. `A` is the alias for "g$lshzxetd" (it leaves out m and n, which we do not
// need: a new key always comes with the event of the command that wrote it).

/** Event classes whose changes must reach the target; `A` covers them all. */
export const NEEDED_CLASSES = ['g', '$', 'l', 's', 'h', 'z', 'x', 'e', 't'] as const;
const ALIAS_A = 'g$lshzxetd';

/** Which channel family we subscribe to: keyevent (message = key) or keyspace (channel holds the key). */
export type NotifyChannelKind = 'keyevent' | 'keyspace';

export interface NotifyCheck {
  ok: boolean;
  /** keyevent when E is on (preferred: one pattern per db), else keyspace when K is on. */
  kind: NotifyChannelKind | null;
  /** Missing flags, in the order they should be added (a channel flag first when neither is on). */
  missing: string[];
  /** The value as the server reported it. */
  current: string;
}

/** The set of single-letter classes in a value, with `A` expanded. */
export function parseNotifyFlags(value: string): Set<string> {
  const flags = new Set<string>();
  for (const ch of value) {
    if (ch === 'A') for (const c of ALIAS_A) flags.add(c);
    else flags.add(ch);
  }
  return flags;
}

export function checkNotifyFlags(value: string): NotifyCheck {
  const flags = parseNotifyFlags(value);
  const missing: string[] = [];
  const kind: NotifyChannelKind | null = flags.has('E') ? 'keyevent' : flags.has('K') ? 'keyspace' : null;
  if (!kind) missing.push('E');
  for (const c of NEEDED_CLASSES) if (!flags.has(c)) missing.push(c);
  return { ok: missing.length === 0, kind, missing, current: value };
}

/**
 * The value to CONFIG SET so that every needed class is on, keeping what was already there
 * (other tools may rely on K, m or n). Missing classes are appended letter by letter rather than
 * as `A`, so a server that predates `d` (module events, Redis 7) still accepts the value.
 */
export function withNeededFlags(value: string): string {
  const flags = parseNotifyFlags(value);
  let out = value;
  if (!flags.has('E') && !flags.has('K')) out += 'E';
  for (const c of NEEDED_CLASSES) if (!flags.has(c)) out += c;
  return out;
}

/** Message for a source whose notifications are off or incomplete, saying how to fix it. */
export function missingNotificationsMessage(where: string, check: NotifyCheck): string {
  const shown = check.current === '' ? '"" (off)' : `"${check.current}"`;
  return (
    `notify-keyspace-events on ${where} is ${shown}; live sync needs keyspace notifications ` +
    `for every change: "KEA" covers them (at least E or K plus ${NEEDED_CLASSES.join('')}; ` +
    `missing: ${check.missing.join('')}). Set notify-keyspace-events = KEA in the provider's ` +
    `parameter group (ElastiCache, Memorystore, Azure Cache, ...), or allow migration-buddy to set ` +
    `it with CONFIG SET (enableNotifications; the old value is restored when live sync stops).`
  );
}
