// The database pair of a copy or verify across topologies: one source database, landing in db 0
// of a cluster; anything else refused with the databases named and what to type instead.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acrossDbs } from '../../../../src/engine/cluster/across-dbs.js';
import { dbMapping } from '../../../../src/engine/db-mapping.js';
import { parseEndpointUrl } from '../../../../src/redis/endpoint.js';

const standalone = (url: string, keyDbs: number[] = []) => ({
  endpoint: parseEndpointUrl(url),
  cluster: false,
  keyDbs,
});
const cluster = (url: string) => ({ endpoint: parseEndpointUrl(url), cluster: true, keyDbs: [] });
const mappingOf = (a: { endpoint: { urlDb?: number } }, b: { endpoint: { urlDb?: number } }, db?: number[]) =>
  dbMapping(a.endpoint, b.endpoint, db);

test('standalone -> cluster: the one database holding keys when it is db 0, or a URL pair /N -> /0', () => {
  const src = standalone('redis://127.0.0.1:7000', [0]);
  const dst = cluster('redis://127.0.0.1:7001');
  assert.deepEqual(acrossDbs(src, dst, mappingOf(src, dst)), { sourceDb: 0, targetDb: 0 });

  const src3 = standalone('redis://127.0.0.1:7000/3', [0, 3]);
  const dst0 = cluster('redis://127.0.0.1:7001/0');
  assert.deepEqual(acrossDbs(src3, dst0, mappingOf(src3, dst0)), { sourceDb: 3, targetDb: 0 });
});

test('standalone -> cluster refused: keys in several databases, or a database other than 0 on the cluster', () => {
  const src = standalone('redis://127.0.0.1:7000', [0, 2]);
  const dst = cluster('redis://127.0.0.1:7001');
  assert.throws(
    () => acrossDbs(src, dst, mappingOf(src, dst)),
    /keys in db0, db2 and a Redis Cluster has db 0 only/,
  );

  const only2 = standalone('redis://127.0.0.1:7000', [2]);
  assert.throws(
    () => acrossDbs(only2, dst, mappingOf(only2, dst)),
    /db 2 of the source would land in db 2: name the target database \/0/,
  );
  const flag = standalone('redis://127.0.0.1:7000', [0, 2]);
  assert.deepEqual(acrossDbs(flag, dst, mappingOf(flag, dst, [0])), { sourceDb: 0, targetDb: 0 });
});

test('cluster -> standalone: db 0 into the URL database; a cluster source with another database is refused', () => {
  const src = cluster('redis://127.0.0.1:7001/0');
  const dst = standalone('redis://127.0.0.1:7000/4');
  assert.deepEqual(acrossDbs(src, dst, mappingOf(src, dst)), { sourceDb: 0, targetDb: 4 });
  const plain = cluster('redis://127.0.0.1:7001');
  const dst2 = standalone('redis://127.0.0.1:7000');
  assert.deepEqual(acrossDbs(plain, dst2, mappingOf(plain, dst2)), { sourceDb: 0, targetDb: 0 });
  const bad = cluster('redis://127.0.0.1:7001/2');
  assert.throws(
    () => acrossDbs(bad, dst2, mappingOf(bad, dst2)),
    /is a Redis Cluster, which has db 0 only, not db 2/,
  );
});
