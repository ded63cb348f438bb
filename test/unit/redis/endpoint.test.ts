import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEndpointUrl, redactUrl } from '../../../src/redis/endpoint.js';

test('redactUrl masks passwords in every URL form, even malformed ones', () => {
  const cases: [string, string][] = [
    ['redis://user:secret@h:6379/1', 'redis://user:***@h:6379/1'],
    ['redis://:secret@h', 'redis://:***@h'],
    ['rediss://secret@h', 'rediss://***@h'],
    ['redis://h:6379', 'redis://h:6379'],
    ['redis://u:p%40ss@h', 'redis://u:***@h'],
    ['redis://u:bad pass@@h:xx', 'redis://u:***@h:xx'],
    ['redis://u:pa/ss@h:1/2', 'redis://u:***@h:1/2'],
    ['pass@word', '***'],
  ];
  for (const [input, expected] of cases) assert.equal(redactUrl(input), expected, input);
});

test('parseEndpointUrl decodes credentials, defaults port and db, turns TLS on for rediss', () => {
  const e = parseEndpointUrl('rediss://app%20user:p%40ss@[::1]:6380/4', 'x');
  assert.equal(e.username, 'app user');
  assert.equal(e.password, 'p@ss');
  assert.equal(e.host, '::1');
  assert.equal(e.port, 6380);
  assert.equal(e.db, 4);
  assert.deepEqual(e.tls, {});
  const plain = parseEndpointUrl('redis://127.0.0.1');
  assert.equal(plain.port, 6379);
  assert.equal(plain.db, 0);
  assert.equal(plain.tls, undefined);
  assert.equal(plain.username, undefined);
});

test('parseEndpointUrl rejects bad input without echoing the password', () => {
  for (const url of [
    'http://u:topsecret@h',
    'redis://u:topsecret@h:0',
    'redis://u:topsecret@h/abc',
    'not a url topsecret',
  ]) {
    assert.throws(
      () => parseEndpointUrl(url),
      (err: Error) => !err.message.includes('topsecret'),
      url,
    );
  }
});
