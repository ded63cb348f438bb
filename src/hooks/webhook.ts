// A webhook hook: POST of a JSON document describing the migration and the step. With a secret,
// the request is signed like this (the receiver recomputes it and compares in constant time):
//   X-MB-Timestamp: <unix seconds>
//   X-MB-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
// Receivers should also refuse timestamps more than a few minutes old (replays).
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { errorMessage } from '../util/errors.js';
import { registerSecret } from '../util/secrets.js';
import { BoundedOutput, DEFAULT_MAX_OUTPUT_BYTES } from './output.js';
import type { HookConfig, HookInvocation, HookOutcome, HookRunOptions } from './types.js';

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 30_000;
export const SIGNATURE_HEADER = 'x-mb-signature';
export const TIMESTAMP_HEADER = 'x-mb-timestamp';

export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** For receivers (and tests): whether a signature header matches the body and timestamp. */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string,
  body: string,
  signature: string,
): boolean {
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The JSON body: names and redacted URLs only, never credentials. */
export function webhookBody(invocation: HookInvocation, now = new Date()): string {
  return JSON.stringify({
    event: 'migration-buddy.hook',
    hook: invocation.hook,
    point: invocation.point,
    migrationId: invocation.migrationId,
    step: invocation.step,
    strategy: invocation.strategy,
    source: { name: invocation.source.name, url: invocation.source.redactedUrl },
    target: { name: invocation.target.name, url: invocation.target.redactedUrl },
    sentAt: now.toISOString(),
  });
}

/** scheme://host[:port] of the webhook: its path and query may hold a token. */
export function webhookOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(bad url)';
  }
}

export async function runWebhook(
  def: HookConfig & { url: string },
  invocation: HookInvocation,
  options: HookRunOptions = {},
): Promise<HookOutcome> {
  registerSecret(def.secret);
  for (const value of Object.values(def.headers ?? {})) registerSecret(value);
  const timeoutMs = def.timeout ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const body = webhookBody(invocation);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const headers: Record<string, string> = {
    ...(def.headers ?? {}),
    'content-type': 'application/json',
    'user-agent': 'migration-buddy',
    'x-mb-delivery': randomUUID(),
    [TIMESTAMP_HEADER]: timestamp,
  };
  if (def.secret) headers[SIGNATURE_HEADER] = signWebhook(def.secret, timestamp, body);

  const response = new BoundedOutput(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
  const started = performance.now();
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const outcome = (fields: Partial<HookOutcome> & Pick<HookOutcome, 'ok'>): HookOutcome => ({
    hook: invocation.hook,
    kind: 'webhook',
    durationMs: Math.round(performance.now() - started),
    stdout: response.text(),
    stderr: '',
    truncated: response.truncated,
    timedOut: false,
    status: 0,
    ...fields,
  });
  const where = webhookOrigin(def.url);
  try {
    // Redirects are not followed: a signed request should reach exactly the configured receiver.
    const res = await fetch(def.url, { method: 'POST', headers, body, signal, redirect: 'manual' });
    if (res.body) {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) response.push(Buffer.from(chunk));
    }
    if (res.status >= 200 && res.status < 300) return outcome({ ok: true, status: res.status });
    return outcome({ ok: false, status: res.status, error: `${where} answered HTTP ${res.status}` });
  } catch (err) {
    if (timeout.aborted) {
      return outcome({ ok: false, timedOut: true, error: `${where} did not answer within ${timeoutMs} ms` });
    }
    if (options.signal?.aborted) return outcome({ ok: false, error: 'stopped by an abort' });
    const cause = (err as { cause?: unknown }).cause;
    return outcome({ ok: false, error: `POST to ${where} failed: ${errorMessage(cause ?? err)}` });
  }
}
