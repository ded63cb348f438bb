import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldGap } from '../../../../src/engine/verify/field-ttls.js';

test("a field's expiry differs beyond the tolerance, on one clock, or in persistence", () => {
  const clock = { kind: 'absolute' as const, targetAheadMs: 2000, uncertaintyMs: 10 };
  // The target's clock runs 2 s ahead: the same moment reads 2 s later there.
  assert.equal(fieldGap(100_000, 102_000, clock, 500), undefined);
  assert.equal(fieldGap(100_000, 102_400, clock, 500), undefined);
  assert.match(fieldGap(100_000, 103_000, clock, 500) ?? '', /expires 990 ms later on the target/);
  assert.match(fieldGap(100_000, 99_000, clock, 500) ?? '', /expires 2990 ms earlier/);
  assert.match(
    fieldGap(100_000, -1, clock, 500) ?? '',
    /has a TTL on the source and is persistent on the target/,
  );
  assert.match(fieldGap(-1, 5, clock, 500) ?? '', /is persistent on the source and has a TTL on the target/);
  assert.equal(fieldGap(-1, -1, clock, 500), undefined);
  // Gone on one side: the value comparison reports it.
  assert.equal(fieldGap(100_000, -2, clock, 500), undefined);
});
