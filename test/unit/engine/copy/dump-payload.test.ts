import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  payloadChecksumOk,
  payloadRdbVersion,
  withRdbVersion,
} from '../../../../src/engine/copy/dump-payload.js';
import { crc64 } from '../../../../src/engine/rdb/crc64.js';

// Captured from redis-server 7.0.15: `SET foo bar` + `DUMP foo`, and `RPUSH mylist a bb ccc 12345`.
const DUMP_STRING = Buffer.from('0003626172' + '0a00' + 'e6be4960ee66fd17', 'hex');
const DUMP_LIST = Buffer.from(
  '12010217170000000400816102826262038363636304f1393003ff0a006bc5071301feb4df',
  'hex',
);

test('crc64 is CRC-64/Jones: check value of "123456789"', () => {
  assert.equal(crc64(Buffer.from('123456789')), 0xe9c6d914c4b8d9can);
  assert.equal(crc64(Buffer.alloc(0)), 0n);
});

test('crc64 matches the checksum of real DUMP payloads', () => {
  for (const payload of [DUMP_STRING, DUMP_LIST]) {
    const stored = payload.readBigUInt64LE(payload.length - 8);
    assert.equal(crc64(payload.subarray(0, payload.length - 8)), stored);
    assert.equal(payloadChecksumOk(payload), true);
  }
});

test('crc64 can continue from a previous value', () => {
  const data = Buffer.from('hello, redis checksums');
  assert.equal(crc64(data.subarray(7), crc64(data.subarray(0, 7))), crc64(data));
});

test('payload trailer: RDB version 10 for Redis 7.0', () => {
  assert.equal(payloadRdbVersion(DUMP_STRING), 10);
  assert.equal(payloadRdbVersion(DUMP_LIST), 10);
  assert.equal(payloadRdbVersion(Buffer.from('short')), null);
});

test('withRdbVersion rewrites the version and keeps the checksum valid', () => {
  const newer = withRdbVersion(DUMP_LIST, 12);
  assert.equal(payloadRdbVersion(newer), 12);
  assert.equal(payloadChecksumOk(newer), true);
  assert.deepEqual(newer.subarray(0, newer.length - 10), DUMP_LIST.subarray(0, DUMP_LIST.length - 10));
  assert.equal(payloadRdbVersion(DUMP_LIST), 10, 'the original is not modified');
  // A flipped byte breaks the checksum.
  const broken = Buffer.from(newer);
  broken[3]! ^= 1;
  assert.equal(payloadChecksumOk(broken), false);
});
