import assert from 'node:assert/strict';
import { test } from 'node:test';
import { globMatch, globMatcher } from '../../../../src/engine/live-sync/glob.js';

const m = (pattern: string, key: string | Buffer) =>
  globMatch(Buffer.from(pattern, 'latin1'), typeof key === 'string' ? Buffer.from(key, 'latin1') : key);

test('stars and question marks', () => {
  assert.equal(m('user:*', 'user:1'), true);
  assert.equal(m('user:*', 'user:'), true);
  assert.equal(m('user:*', 'users:1'), false);
  assert.equal(m('*:session', 'a:b:session'), true);
  assert.equal(m('*:session', 'a:b:sessions'), false);
  assert.equal(m('a*b*c', 'axxbyyc'), true);
  assert.equal(m('a*b*c', 'axxbyy'), false);
  assert.equal(m('a**b', 'ab'), true);
  assert.equal(m('h?llo', 'hello'), true);
  assert.equal(m('h?llo', 'hllo'), false);
  assert.equal(m('*', 'anything'), true);
});

test('character classes, negation, ranges (either order) and escapes', () => {
  assert.equal(m('h[ae]llo', 'hallo'), true);
  assert.equal(m('h[ae]llo', 'hillo'), false);
  assert.equal(m('h[^e]llo', 'hallo'), true);
  assert.equal(m('h[^e]llo', 'hello'), false);
  assert.equal(m('h[a-b]llo', 'hbllo'), true);
  assert.equal(m('h[b-a]llo', 'hbllo'), true);
  assert.equal(m('h[a-b]llo', 'hcllo'), false);
  assert.equal(m('a\\*b', 'a*b'), true);
  assert.equal(m('a\\*b', 'axb'), false);
  assert.equal(m('a[\\]]b', 'a]b'), true);
  assert.equal(m('a[]b', 'ab'), false);
  // Unterminated class runs to the end of the pattern, as in Redis.
  assert.equal(m('a[bc', 'ab'), true);
  assert.equal(m('a[bc', 'ac'), true);
});

test('empty key only matches a lone star (which Redis special-cases)', () => {
  assert.equal(m('a*', ''), false);
  assert.equal(m('**', ''), false);
  assert.equal(globMatcher('*')(Buffer.alloc(0)), true);
});

test('binary keys are matched byte by byte', () => {
  const key = Buffer.from([0x00, 0xff, 0x3a, 0x80, 0x41]);
  assert.equal(globMatch(Buffer.from([0x00, 0xff, 0x2a]), key), true);
  assert.equal(globMatch(Buffer.from([0x3f, 0x3f, 0x3a, 0x2a]), key), true);
  assert.equal(globMatch(Buffer.from([0x2a, 0x80, 0x41]), key), true);
  assert.equal(globMatch(Buffer.from([0x2a, 0x81, 0x41]), key), false);
  // Multi-byte UTF-8 in the pattern string is matched as bytes.
  assert.equal(globMatcher('café:*')(Buffer.from('café:1', 'utf8')), true);
  assert.equal(globMatcher('caf?:*')(Buffer.from('café:1', 'utf8')), false);
  assert.equal(globMatcher('caf??:*')(Buffer.from('café:1', 'utf8')), true);
});

test('pathological patterns finish quickly', () => {
  const key = Buffer.from('a'.repeat(60));
  assert.equal(globMatch(Buffer.from(`${'a*'.repeat(30)}b`), key), false);
});
