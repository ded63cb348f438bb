import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, stepHash } from '../../../src/runbook/step-hash.js';

describe('step hash', () => {
  it('is the same whatever order keys were written in', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } }),
      '{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}',
    );
    const a = stepHash('m1', { id: '2-copy', kind: 'bulk_copy', params: { dbs: [0, 1], match: 'a*' } });
    const b = stepHash('m1', { id: '2-copy', kind: 'bulk_copy', params: { match: 'a*', dbs: [0, 1] } });
    assert.equal(a, b);
    assert.match(a, /^[0-9a-f]{64}$/);
  });

  it('changes when the migration, any parameter, the kind or the id changes', () => {
    const base = { id: '2-copy', kind: 'bulk_copy' as const, params: { dbs: [0, 1] } };
    const h = stepHash('m1', base);
    assert.notEqual(stepHash('m1', { ...base, params: { dbs: [0] } }), h);
    assert.notEqual(stepHash('m1', { ...base, params: { dbs: [1, 0] } }), h, 'array order matters');
    assert.notEqual(stepHash('m1', { ...base, kind: 'live_sync' }), h);
    assert.notEqual(stepHash('m1', { ...base, id: '3-copy' }), h);
    assert.notEqual(stepHash('m2', base), h, 'the same step of another migration');
  });

  it('ignores undefined members like JSON does', () => {
    assert.equal(
      stepHash('m1', { id: 'x', kind: 'verify', params: { a: 1, b: undefined } }),
      stepHash('m1', { id: 'x', kind: 'verify', params: { a: 1 } }),
    );
  });
});
