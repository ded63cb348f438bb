// Slack's request signature (docs: "Verifying requests from Slack"): HMAC-SHA256 over
// `v0:<timestamp>:<raw body>` with the signing secret, and a timestamp within 5 minutes of now,
// either way. Bolt's own check only refuses old timestamps, so a signed request dated in the
// future (a replay kept for later) would pass it.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack's rule: |now - timestamp| <= 5 minutes. */
export const MAX_CLOCK_SKEW_SECONDS = 300;

export interface SignedRequestInput {
  signingSecret: string;
  /** The x-slack-request-timestamp header (seconds since the epoch). */
  timestamp: string | string[] | undefined;
  /** The x-slack-signature header (`v0=<hex>`). */
  signature: string | string[] | undefined;
  rawBody: Buffer;
  nowMs?: number;
}

/** Why the request is not Slack's, or null when it is. Never says what the right signature is. */
export function signatureProblem(input: SignedRequestInput): string | null {
  const { timestamp, signature } = input;
  if (typeof timestamp !== 'string' || !/^\d{1,12}$/.test(timestamp)) {
    return 'x-slack-request-timestamp is missing or not a number';
  }
  const nowSec = Math.floor((input.nowMs ?? Date.now()) / 1000);
  if (Math.abs(nowSec - Number(timestamp)) > MAX_CLOCK_SKEW_SECONDS) {
    return `x-slack-request-timestamp is more than ${MAX_CLOCK_SKEW_SECONDS} s from this server's clock (a replay, or a clock to fix)`;
  }
  if (typeof signature !== 'string' || !/^v0=[0-9a-f]{64}$/.test(signature)) {
    return 'x-slack-signature is missing or not a v0 signature';
  }
  const expected = createHmac('sha256', input.signingSecret)
    .update(`v0:${timestamp}:`)
    .update(input.rawBody)
    .digest();
  const given = Buffer.from(signature.slice(3), 'hex');
  if (!timingSafeEqual(given, expected)) return 'the signature does not match the signing secret';
  return null;
}
