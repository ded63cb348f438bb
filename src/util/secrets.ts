// A process-wide registry of secret strings (passwords, tokens) so that any text leaving the
// process (log lines, Slack messages, errors, audit events) can be scrubbed of them, even when a
// library put one somewhere we did not expect.

const secrets = new Set<string>();
const MASK = '***';

/** Remember a secret; short strings are ignored, as masking them would mangle ordinary text. */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 4) secrets.add(value);
}

export function forgetSecrets(): void {
  secrets.clear();
}

/** Replace every registered secret (and its URL-encoded form) in `text` with `***`. */
export function scrub(text: string): string {
  if (secrets.size === 0) return text;
  let out = text;
  for (const secret of secrets) {
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      if (out.includes(form)) out = out.split(form).join(MASK);
    }
  }
  return out;
}

/** Scrub every string inside a JSON-like value. */
export function scrubDeep<T>(value: T): T {
  if (typeof value === 'string') return scrub(value) as T;
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v)) as T;
  if (value && typeof value === 'object' && !(value instanceof Buffer)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = scrubDeep(v);
    return out as T;
  }
  return value;
}
