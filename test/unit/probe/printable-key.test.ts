import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { printableKey } from '../../../src/probe/printable-key.js';

describe('printableKey', () => {
  it('shows UTF-8 keys as they are', () => {
    assert.equal(printableKey(Buffer.from('user:42')), 'user:42');
    assert.equal(printableKey(Buffer.from('café:ключ')), 'café:ключ');
  });

  it('escapes keys that are not valid UTF-8 byte by byte', () => {
    assert.equal(printableKey(Buffer.from([0xff, 0x00, 0x41])), '\\xff\\x00A');
    assert.equal(printableKey(Buffer.from([0x61, 0x5c, 0xc3])), 'a\\\\\\xc3');
  });

  it('escapes control characters even in valid UTF-8', () => {
    assert.equal(printableKey(Buffer.from('a\nb\x7f')), 'a\\x0ab\\x7f');
  });
});
