// Keyspace-notification flags: what live sync needs from `notify-keyspace-events`.
//
// Live sync learns which keys changed from keyspace (K) or keyevent (E) notifications and re-copies
// them. It needs every class that can change or remove a key: generic (g: DEL, RENAME, EXPIRE...),
// each data type ($ l s h z), expired (x) and evicted (e). Stream events (t) matter only when the
// source has streams, which the probe cannot tell, so their absence is a warning, not a gap.
// 'A' is the alias for "g$lshzxetd".

const ALIAS_A = 'g$lshzxetd';
/** Event classes live sync needs, in the order redis.conf documents them. */
export const LIVE_SYNC_CLASSES = ['g', '$', 'l', 's', 'h', 'z', 'x', 'e'] as const;
/** Classes that are needed only when keys of that kind exist: t = streams. */
export const LIVE_SYNC_OPTIONAL_CLASSES = ['t'] as const;
const ORDER = 'KEg$lshzxetdmn';

function expand(flags: string): Set<string> {
  const out = new Set<string>();
  for (const ch of flags) {
    if (ch === 'A') for (const c of ALIAS_A) out.add(c);
    else out.add(ch);
  }
  return out;
}

export interface NotificationGaps {
  /** Neither K (keyspace) nor E (keyevent) is on, so nothing is published at all. */
  noChannel: boolean;
  /** Event classes live sync needs that are off. */
  missingClasses: string[];
  /** Optional classes that are off (t: stream changes are not followed). */
  missingOptional: string[];
}

export function notificationGaps(flags: string): NotificationGaps {
  const set = expand(flags);
  return {
    noChannel: !set.has('K') && !set.has('E'),
    missingClasses: LIVE_SYNC_CLASSES.filter((c) => !set.has(c)),
    missingOptional: LIVE_SYNC_OPTIONAL_CLASSES.filter((c) => !set.has(c)),
  };
}

export function notificationsSufficient(flags: string): boolean {
  const gaps = notificationGaps(flags);
  return !gaps.noChannel && gaps.missingClasses.length === 0;
}

/** The current flags plus what live sync needs, written compactly ("KEA", "KA", "KAm"). */
export function flagsForLiveSync(current: string): string {
  const set = expand(current);
  if (!set.has('K') && !set.has('E')) set.add('K');
  // Everything in 'A' (module key events too: harmless, and useful when modules define types).
  for (const c of ALIAS_A) set.add(c);
  let out = '';
  if (set.has('K')) out += 'K';
  if (set.has('E')) out += 'E';
  const allA = [...ALIAS_A].every((c) => set.has(c));
  if (allA) out += 'A';
  for (const c of ORDER.slice(2)) {
    if (set.has(c) && !(allA && ALIAS_A.includes(c))) out += c;
  }
  return out;
}
