import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEndpointUrl } from '../../../src/redis/endpoint.js';
import { nodeEndpoint } from '../../../src/redis/node-endpoint.js';

test('a cluster node keeps the endpoint’s credentials and TLS, with its own host and port', () => {
  const seed = parseEndpointUrl('rediss://migrator:s3cret@cache.example:7000/0', 'cache', {
    tls: { ca: '/etc/ca.pem' },
  });
  const node = nodeEndpoint(seed, '10.0.0.7', 7002);
  assert.equal(node.host, '10.0.0.7');
  assert.equal(node.port, 7002);
  assert.equal(node.username, 'migrator');
  assert.equal(node.password, 's3cret');
  assert.deepEqual(node.tls, { ca: '/etc/ca.pem' });
  assert.equal(node.redactedUrl, 'rediss://migrator:***@10.0.0.7:7002/0');
  assert.equal(node.name, 'cache node 10.0.0.7:7002');
  assert.doesNotMatch(node.name + node.redactedUrl, /s3cret/);
  const v6 = nodeEndpoint(seed, '::1', 7003);
  assert.equal(v6.host, '::1');
  assert.match(v6.redactedUrl, /@\[::1\]:7003\//);
});
