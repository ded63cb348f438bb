import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { credentialedUrl } from '../../../src/hooks/env.js';
import { BoundedOutput } from '../../../src/hooks/output.js';
import { signWebhook, verifyWebhookSignature, webhookOrigin } from '../../../src/hooks/webhook.js';
import { parseEndpointUrl } from '../../../src/redis/endpoint.js';
import { registerSecret } from '../../../src/util/secrets.js';

describe('BoundedOutput', () => {
  it('keeps the start and the end of a long output and says what it left out', () => {
    const out = new BoundedOutput(100);
    out.push(Buffer.from('S'.repeat(30)));
    for (let i = 0; i < 50; i++) out.push(Buffer.from('m'.repeat(10)));
    out.push(Buffer.from('THE-END'));
    const text = out.text();
    assert.ok(out.truncated);
    assert.ok(text.startsWith('S'.repeat(25)));
    assert.ok(text.endsWith('THE-END'));
    assert.match(text, /\[\.\.\. \d+ bytes left out \.\.\.\]/);
    assert.ok(text.length < 200);
  });

  it('scrubs registered secrets', () => {
    registerSecret('bounded-secret-123');
    const out = new BoundedOutput();
    out.push(Buffer.from('password is bounded-secret-123\n'));
    assert.equal(out.text(), 'password is ***\n');
    assert.equal(out.truncated, false);
  });
});

describe('webhook signature', () => {
  it('is an HMAC-SHA256 over timestamp.body that the receiver can check', () => {
    const sig = signWebhook('k3y-secret', '1700000000', '{"a":1}');
    assert.match(sig, /^sha256=[0-9a-f]{64}$/);
    assert.equal(verifyWebhookSignature('k3y-secret', '1700000000', '{"a":1}', sig), true);
    assert.equal(verifyWebhookSignature('k3y-secret', '1700000001', '{"a":1}', sig), false);
    assert.equal(verifyWebhookSignature('other', '1700000000', '{"a":1}', sig), false);
  });

  it('shows only the origin of a webhook URL', () => {
    assert.equal(
      webhookOrigin('https://hooks.example/services/T0/B0/secrettoken?x=1'),
      'https://hooks.example',
    );
  });
});

describe('credentialedUrl', () => {
  it('carries credentials however they were configured', () => {
    const e = parseEndpointUrl('rediss://h.example:6380/3', 'x', { username: 'u', password: 'p@ss/word' });
    assert.equal(credentialedUrl(e), 'rediss://u:p%40ss%2Fword@h.example:6380/3');
    assert.equal(credentialedUrl(parseEndpointUrl('redis://[::1]:7000')), 'redis://[::1]:7000/0');
  });
});
