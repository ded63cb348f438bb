import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RespError } from '../../../../src/engine/resp/reply.js';
import {
  countFieldTtls,
  fieldExpiryReads,
  fieldExpiryWrites,
  hashFields,
  parseFieldExpiries,
} from '../../../../src/engine/types/field-ttls.js';

const b = (s: string) => Buffer.from(s);

describe('hash field TTL commands', () => {
  test('HPEXPIREAT groups fields by expiry time and leaves persistent and gone fields alone', () => {
    const fields = ['a', 'b', 'c', 'd', 'e'].map(b);
    const cmds = fieldExpiryWrites(b('h'), fields, [1000, -1, 1000, 2000, -2]);
    assert.deepEqual(
      cmds.map((c) => c.map(String)),
      [
        ['HPEXPIREAT', 'h', '1000', 'FIELDS', '2', 'a', 'c'],
        ['HPEXPIREAT', 'h', '2000', 'FIELDS', '1', 'd'],
      ],
    );
    assert.deepEqual(fieldExpiryWrites(b('h'), fields, [-1, -1, -1, -1, -1]), []);
  });

  test('reads and writes split into commands of at most 1024 fields', () => {
    const fields = Array.from({ length: 2500 }, (_, i) => b(`f${i}`));
    const reads = fieldExpiryReads(b('h'), fields);
    assert.deepEqual(
      reads.map((c) => c[3]),
      [1024, 1024, 452],
    );
    const writes = fieldExpiryWrites(
      b('h'),
      fields,
      fields.map(() => 7),
    );
    assert.deepEqual(
      writes.map((c) => c[4]),
      [1024, 1024, 452],
    );
  });

  test('parses replies in order, and refuses errors and short answers', () => {
    assert.deepEqual(parseFieldExpiries([[1, -1], [-2]], 3), [1, -1, -2]);
    assert.throws(
      () => parseFieldExpiries([new RespError('WRONGTYPE Operation')], 1),
      /HPEXPIRETIME: WRONGTYPE/,
    );
    assert.throws(() => parseFieldExpiries([[1]], 2), /1 answers for 2 fields/);
  });

  test('fields of a flat hash and the count of TTLs', () => {
    assert.deepEqual(hashFields(['a', '1', 'b', '2'].map(b)).map(String), ['a', 'b']);
    assert.equal(countFieldTtls([0, 5, -1, -2]), 2);
  });
});

test('only an unknown command says a server has no field TTLs; other refusals fail visibly later', async () => {
  const { fieldTtlsFromProbeError } = await import('../../../../src/probe/field-ttls.js');
  assert.equal(fieldTtlsFromProbeError(null), true);
  assert.equal(
    fieldTtlsFromProbeError("ERR unknown command 'HPEXPIRETIME', with args beginning with: 'k' 'FIELDS'"),
    false,
  );
  assert.equal(
    fieldTtlsFromProbeError("NOPERM User u has no permissions to run the 'hpexpiretime' command"),
    true,
  );
});
