// Reading ACL replies: what ACL DRYRUN and ACL GETUSER say about the probing user.

/** What `ACL GETUSER <user>` says the user may do, as far as we can tell without a rule engine. */
export interface AclGrants {
  allCommands: boolean;
  allKeys: boolean;
  allChannels: boolean;
}

/** A flat RESP2 map ([k1, v1, k2, v2, ...]) as an object. */
function flatMap(reply: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = reply[i + 1];
  return out;
}

function asList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string') return value.split(' ').filter(Boolean);
  return [];
}

/**
 * Reads `ACL GETUSER` (Redis 6 returns key and channel patterns as lists plus flags such as
 * `allkeys`; Redis 7 returns `~*`/`&*` strings). Only the plain "everything" grants are
 * recognised; any narrower rule set reads as not-all, which callers treat as "cannot tell".
 * Selectors only ever add permissions, so ignoring them can only under-report.
 */
export function parseAclGrants(reply: unknown): AclGrants {
  const user = flatMap(reply);
  const flags = new Set(asList(user['flags']));
  const commands = typeof user['commands'] === 'string' ? user['commands'].trim() : '';
  const keys = asList(user['keys']);
  const channels = user['channels'];
  return {
    allCommands: flags.has('allcommands') || commands === '+@all',
    allKeys: flags.has('allkeys') || keys.some((k) => k === '*' || k === '~*'),
    // Redis 6.0 has no channel permissions at all (the field is missing).
    allChannels:
      flags.has('allchannels') ||
      channels === undefined ||
      asList(channels).some((c) => c === '*' || c === '&*'),
  };
}

export type DryRunVerdict =
  | { kind: 'allowed' }
  | { kind: 'denied'; reason: string }
  | { kind: 'unknown-command' }
  /** ACL DRYRUN itself could not run (not permitted, not supported): no answer. */
  | { kind: 'no-answer'; why: string };

/**
 * ACL DRYRUN answers `OK` or a denial as a normal reply ("This user has no permissions to run
 * the 'migrate' command", "... to access the 'k' key", "... the 'x' channel"), and an error
 * when the command does not exist or when DRYRUN itself may not run.
 */
export function readDryRun(
  err: Error | null | undefined,
  reply: unknown,
  user: string,
  command: string,
): DryRunVerdict {
  if (err) {
    // DRYRUN says "Command 'x' not found" about the probed command; "unknown command/subcommand"
    // means ACL or DRYRUN itself is missing (renamed, or Redis before 7).
    if (/Command '.*' not found/i.test(err.message)) return { kind: 'unknown-command' };
    return { kind: 'no-answer', why: err.message };
  }
  const text = Buffer.isBuffer(reply) ? reply.toString() : String(reply);
  if (text === 'OK') return { kind: 'allowed' };
  return { kind: 'denied', reason: aclReason(text, user, command) };
}

/** A denial (from ACL DRYRUN or a NOPERM error) as a sentence that names the user and the command. */
export function aclReason(message: string, user: string, command: string): string {
  const what = /'([^']*)' (key|channel)/i.exec(message);
  if (what?.[2]?.toLowerCase() === 'key')
    return `ACL: user '${user}' may not access key '${what[1]}' with '${command}' (not every key is allowed)`;
  if (what?.[2]?.toLowerCase() === 'channel')
    return `ACL: user '${user}' has no permission to subscribe to '${what[1]}' with '${command}'`;
  return `ACL: user '${user}' has no permission to run '${command}'`;
}
