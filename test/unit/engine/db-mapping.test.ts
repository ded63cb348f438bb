import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkMapping,
  dbMapping,
  remapFromParams,
  sourceDbOf,
  targetDbOf,
  targetDbsOf,
} from '../../../src/engine/db-mapping.js';
import { parseEndpointUrl } from '../../../src/redis/endpoint.js';
import { UserError } from '../../../src/util/errors.js';

const url = (text: string) => parseEndpointUrl(text);

test('a URL names a database only when it ends in /N', () => {
  assert.equal(url('redis://h:1').urlDb, undefined);
  assert.equal(url('redis://h:1/').urlDb, undefined);
  assert.equal(url('redis://h:1/0').urlDb, 0);
  assert.equal(url('redis://h:1/7').urlDb, 7);
  assert.equal(url('redis://h:1').db, 0);
});

test('without a database in the URLs every db maps to itself, or --db picks', () => {
  assert.deepEqual(dbMapping(url('redis://a:1'), url('redis://b:1'), undefined), { dbs: 'all' });
  assert.deepEqual(dbMapping(url('redis://a:1'), url('redis://b:1'), [0, 3]), { dbs: [0, 3] });
});

test('a database in the URLs selects and maps it; /0 on both sides is db 0 only', () => {
  assert.deepEqual(dbMapping(url('redis://a:1/3'), url('redis://b:1/5'), undefined), {
    dbs: [3],
    remap: { from: 3, to: 5 },
  });
  assert.deepEqual(dbMapping(url('redis://a:1/0'), url('redis://b:1/0'), undefined), { dbs: [0] });
  assert.deepEqual(dbMapping(url('redis://a:1/4'), url('redis://b:1'), undefined), { dbs: [4] });
});

test('--db with a URL database, or a database only in the target URL, is a clear error', () => {
  assert.throws(
    () => dbMapping(url('redis://a:1/3'), url('redis://b:1/5'), [3]),
    (e: unknown) =>
      e instanceof UserError && /--db conflicts with the database in the source URL \(\/3\)/.test(e.message),
  );
  assert.throws(
    () => dbMapping(url('redis://a:1'), url('redis://b:1/5'), 'all'),
    /--db conflicts .* target URL/,
  );
  assert.throws(
    () => dbMapping(url('redis://a:1'), url('redis://b:1/5'), undefined),
    /the target URL names database 5 but the source URL names none/,
  );
});

test('source and target db numbers under a remap', () => {
  const m = { remap: { from: 3, to: 5 } };
  assert.equal(targetDbOf(m, 3), 5);
  assert.equal(targetDbOf({}, 3), 3);
  assert.equal(sourceDbOf(m, 5), 3);
  assert.equal(sourceDbOf(m, 3), undefined);
  assert.deepEqual(targetDbsOf(m, [3]), [5]);
  assert.equal(targetDbsOf({}, 'all'), 'all');
  assert.doesNotThrow(() => checkMapping({ dbs: [3], ...m }));
  assert.throws(() => checkMapping({ dbs: 'all', ...m }), /needs dbs \[3\]/);
});

test('a remap read back from step parameters', () => {
  assert.equal(remapFromParams({}), undefined);
  assert.equal(remapFromParams({ dbRemap: null }), undefined);
  assert.deepEqual(remapFromParams({ dbRemap: { from: 3, to: 5 } }), { from: 3, to: 5 });
  assert.throws(() => remapFromParams({ dbRemap: { from: 3, to: -1 } }), /malformed/);
});
