import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { MAX_CLOCK_SKEW_SECONDS, signatureProblem } from '../../../../src/slack/edge/signature.js';

const SECRET = 'unit-signing-secret';
const NOW_MS = Date.parse('2026-12-04T12:00:00Z');
const NOW = Math.floor(NOW_MS / 1000);
const BODY = Buffer.from('command=%2Fmigrate&text=help');

// Computed here independently of the module (Slack docs: v0:<timestamp>:<body>, HMAC-SHA256).
const sign = (ts: number | string, body = BODY, secret = SECRET) =>
  `v0=${createHmac('sha256', secret)
    .update(`v0:${ts}:${body.toString('utf8')}`)
    .digest('hex')}`;

const check = (timestamp: unknown, signature: unknown, body = BODY) =>
  signatureProblem({
    signingSecret: SECRET,
    timestamp: timestamp as string,
    signature: signature as string,
    rawBody: body,
    nowMs: NOW_MS,
  });

test('a correct signature within 300 s either way is accepted', () => {
  for (const skew of [0, -MAX_CLOCK_SKEW_SECONDS, MAX_CLOCK_SKEW_SECONDS, -1, 59]) {
    assert.equal(check(String(NOW + skew), sign(NOW + skew)), null, `skew ${skew}`);
  }
});

test('timestamps more than 300 s away, past or future, are refused even when correctly signed', () => {
  for (const skew of [-301, 301, -600, 360, 86_400]) {
    assert.match(String(check(String(NOW + skew), sign(NOW + skew))), /more than 300 s/, `skew ${skew}`);
  }
});

test('missing or malformed headers and wrong signatures are refused', () => {
  const cases: [unknown, unknown, RegExp][] = [
    [undefined, sign(NOW), /timestamp is missing/],
    [['1', '2'], sign(NOW), /timestamp is missing/],
    ['12abc', sign(NOW), /timestamp is missing/],
    [' 123', sign(NOW), /timestamp is missing/],
    [String(NOW), undefined, /not a v0 signature/],
    [String(NOW), 'v1=abcd', /not a v0 signature/],
    [String(NOW), `v0=${'z'.repeat(64)}`, /not a v0 signature/],
    [String(NOW), `v0=${'0'.repeat(64)}`, /does not match/],
    [String(NOW), sign(NOW, BODY, 'other-secret'), /does not match/],
    [String(NOW), sign(NOW - 1), /does not match/],
    [String(NOW), sign(NOW, Buffer.from('command=%2Fmigrate&text=list')), /does not match/],
  ];
  for (const [ts, sig, expected] of cases) {
    assert.match(String(check(ts, sig)), expected, `${String(ts)} ${String(sig)}`);
  }
});
