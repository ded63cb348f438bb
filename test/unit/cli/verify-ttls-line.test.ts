import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ttlsLine } from '../../../src/cli/commands/verify.js';

test('the TTL line says how expiries were compared and how the clocks stand', () => {
  assert.equal(
    ttlsLine({ by: 'expiretime', targetClockAheadMs: 0.02, clockUncertaintyMs: 0.05 }),
    "  TTLs: compared as absolute expiry times (PEXPIRETIME); the servers' clocks agree within 0.05 ms",
  );
  assert.equal(
    ttlsLine({ by: 'expiretime', targetClockAheadMs: -1500.25, clockUncertaintyMs: 0.4 }),
    "  TTLs: compared as absolute expiry times (PEXPIRETIME); the target's clock is 1500.3 ms behind the source's (±0.40 ms), allowed for",
  );
  assert.equal(ttlsLine({ by: 'pttl', reason: 'PEXPIRETIME refused' }), '  TTLs: PEXPIRETIME refused');
});
