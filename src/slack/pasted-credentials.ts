// What a credential looks like in text people type into Slack: a URL, userinfo, a password=
// option, a Slack token, an AUTH line pasted from redis-cli. Channel history is forever, so such
// text is refused before it is used, stored or repeated (the slash command, the reject reason).

const SENSITIVE_PATTERNS: RegExp[] = [
  // any URL scheme: redis://, rediss://, http://, unix://...
  /[a-z][a-z0-9+.-]*:\/\//i,
  // Slack's escaped links and autolinked hosts: <http://...|...>, <mailto:...>, <redis.example.com>
  /<(?![@#!])[^>]*>?/,
  // userinfo: user:password@host, :password@host
  /(^|[\s=])[^\s:@/]*:[^\s@/]+@\S/,
  // password=..., requirepass=..., token=..., --pass ...
  /(^|[^a-z])(password|passwd|pwd|pass|requirepass|masterauth|secret|token|apikey|api[_-]key|auth|credentials?)\s*=/i,
  /(^|\s)--?(a|pass|password|askpass|user)(\s|=|$)/i,
  // Slack tokens
  /\bx(ox[abposre]|app)-/i,
];

/**
 * True when text someone typed (a slash command, a rejection reason) holds something shaped like
 * a credential.
 */
export function containsCredentials(text: string): boolean {
  if (SENSITIVE_PATTERNS.some((re) => re.test(text))) return true;
  // AUTH <user> <password> pasted from redis-cli
  return /^\s*auth\s+\S/i.test(text);
}
