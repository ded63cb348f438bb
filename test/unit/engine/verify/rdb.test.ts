import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lzfDecompress } from '../../../../src/engine/rdb/lzf.js';
import { decodeUnorderedPayload, payloadType, payloadVersion } from '../../../../src/engine/verify/rdb.js';

// DUMP payloads captured from Redis 7.0.15 (RDB version 10).
/** SADD s a xyz 123 -5 70000 qqqq...(40): hash-table set; int-encoded and LZF-compressed members. */
const SET = Buffer.from(
  '0206c0fb01610378797ac07bc30928017171e01b00017171c2701101000a00b2d95fafe6d3d292',
  'hex',
);
/** HSET h f v n 42 big abab...(80 bytes): hash-table hash. */
const HASH = Buffer.from(
  '04030166017603626967c30a405002616261e04201016162016ec02a0a00b481c04668075a73',
  'hex',
);
const STRING = Buffer.from('000568656c6c6f0a006372df766534200a', 'hex');
const INTSET = Buffer.from('0b0e02000000030000000100020003000a00a5025ce26d6e4d1b', 'hex');

const texts = (items: Buffer[]) => items.map((b) => b.toString());

describe('DUMP payload header and trailer', () => {
  it('reads the type from the first byte', () => {
    assert.equal(payloadType(SET), 'set');
    assert.equal(payloadType(HASH), 'hash');
    assert.equal(payloadType(STRING), 'string');
    assert.equal(payloadType(INTSET), 'set');
    const module = Buffer.from(STRING);
    module[0] = 7;
    assert.equal(payloadType(module), undefined, 'module types need TYPE');
    module[0] = 99;
    assert.equal(payloadType(module), undefined, 'unknown newer encodings need TYPE');
  });

  it('reads the RDB version from the 2 bytes before the CRC', () => {
    assert.equal(payloadVersion(SET), 10);
    assert.equal(payloadVersion(STRING), 10);
    assert.equal(payloadVersion(Buffer.from([0, 1])), null);
  });
});

describe('decodeUnorderedPayload', () => {
  it('decodes hash-table sets, including int-encoded and compressed members', () => {
    const decoded = decodeUnorderedPayload(SET);
    assert.equal(decoded?.type, 'set');
    assert.deepEqual(
      texts(decoded!.type === 'set' ? decoded!.members : []).sort(),
      ['-5', '123', '70000', 'a', 'q'.repeat(40), 'xyz'].sort(),
    );
  });

  it('decodes hash-table hashes as field, value pairs', () => {
    const decoded = decodeUnorderedPayload(HASH);
    assert.equal(decoded?.type, 'hash');
    const entries = decoded!.type === 'hash' ? texts(decoded!.entries) : [];
    const pairs = new Map<string, string>();
    for (let i = 0; i < entries.length; i += 2) pairs.set(entries[i]!, entries[i + 1]!);
    assert.deepEqual(Object.fromEntries(pairs), { f: 'v', n: '42', big: 'ab'.repeat(40) });
  });

  it('leaves every other encoding to the type-aware reader', () => {
    assert.equal(decodeUnorderedPayload(STRING), null);
    assert.equal(decodeUnorderedPayload(INTSET), null);
  });

  it('refuses payloads that do not parse exactly up to the trailer', () => {
    const truncated = Buffer.concat([SET.subarray(0, 8), SET.subarray(SET.length - 10)]);
    assert.equal(decodeUnorderedPayload(truncated), null);
    const hugeCount = Buffer.from(SET);
    hugeCount[1] = 0x3f; // claims 63 members
    assert.equal(decodeUnorderedPayload(hugeCount), null);
    const trailing = Buffer.concat([
      SET.subarray(0, SET.length - 10),
      Buffer.from([0x01, 0x61]),
      SET.subarray(SET.length - 10),
    ]);
    assert.equal(decodeUnorderedPayload(trailing), null);
  });
});

describe('lzfDecompress', () => {
  it('expands literals and overlapping back references', () => {
    // literal "a", then a back reference of 9 bytes at distance 1
    assert.equal(lzfDecompress(Buffer.from([0x00, 0x61, 0xe0, 0x00, 0x00]), 10).toString(), 'a'.repeat(10));
    assert.equal(lzfDecompress(Buffer.from([0x02, 0x61, 0x62, 0x63]), 3).toString(), 'abc');
  });

  it('rejects corrupt input instead of reading out of bounds', () => {
    assert.throws(() => lzfDecompress(Buffer.from([0x05, 0x61]), 6), /bad LZF/);
    assert.throws(() => lzfDecompress(Buffer.from([0x20, 0x05]), 3), /bad LZF/);
    assert.throws(() => lzfDecompress(Buffer.from([0x00, 0x61]), 2), /length mismatch/);
  });
});
