import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rdbAccepted, rdbVersionForServer, rdbVersionFromDump } from '../../../src/probe/rdb-version.js';

describe('rdbVersionFromDump', () => {
  it('reads the version from a real Redis 7.0 DUMP payload (string "v")', () => {
    // DUMP of a key holding "v" on redis-server 7.0.15: type 0, length 1, 'v', version 10, CRC64.
    const payload = Buffer.from('000176' + '0a00' + '9108ceb219388ace', 'hex');
    assert.equal(rdbVersionFromDump(payload), 10);
  });

  it('reads the 2 little-endian bytes before the 8-byte trailer', () => {
    const body = Buffer.from([0x04, 0x01, 0x02, 0x03]);
    const version = Buffer.from([0x0c, 0x00]); // 12
    const crc = Buffer.alloc(8, 0xff);
    assert.equal(rdbVersionFromDump(Buffer.concat([body, version, crc])), 12);
    assert.equal(rdbVersionFromDump(Buffer.concat([body, Buffer.from([0x50, 0x00]), crc])), 80);
    assert.equal(rdbVersionFromDump(Buffer.concat([body, Buffer.from([0x00, 0x01]), crc])), 256);
  });

  it('says null for something too short to be a payload', () => {
    assert.equal(rdbVersionFromDump(Buffer.alloc(0)), null);
    assert.equal(rdbVersionFromDump(Buffer.alloc(10, 1)), null);
    assert.equal(rdbVersionFromDump(Buffer.alloc(12, 0)), null);
  });
});

describe('rdbVersionForServer', () => {
  const table: [string, number][] = [
    ['2.8.24', 6],
    ['3.0.7', 6],
    ['3.2.12', 7],
    ['4.0.14', 8],
    ['5.0.14', 9],
    ['6.0.20', 9],
    ['6.2.14', 9],
    ['7.0.15', 10],
    ['7.2.4', 11],
    ['7.4.1', 12],
    ['7.4.1', 12],
    ['8.0.2', 12],
    ['8.2.0', 12],
    ['8.4.0', 12],
    ['8.6.1', 13],
  ];
  for (const [version, rdb] of table) {
    it(`Redis ${version} writes RDB ${rdb}`, () => assert.equal(rdbVersionForServer(version), rdb));
  }
  // Every Valkey says redis_version:7.2.4; its own version decides.
  const valkey: [string, number][] = [
    ['7.2.5', 11],
    ['8.0.1', 11],
    ['8.1.1', 11],
    ['9.0.0', 80],
    ['9.1.1', 80],
    ['9.2.0', 81],
  ];
  for (const [version, rdb] of valkey) {
    it(`Valkey ${version} writes RDB ${rdb}`, () =>
      assert.equal(rdbVersionForServer('7.2.4', 'valkey', version), rdb));
  }
  it('a Valkey without valkey_version is taken by its redis_version', () => {
    assert.equal(rdbVersionForServer('7.2.4', 'valkey'), 11);
  });
});

describe('rdbAccepted', () => {
  const redis = (rdbVersion: number) => ({ flavor: 'redis', rdbVersion });
  const valkey = (rdbVersion: number) => ({ flavor: 'valkey', rdbVersion });
  it('Redis takes its own format and older ones, not newer ones', () => {
    assert.equal(rdbAccepted(10, redis(12)), true); // 7.0 -> 8.0
    assert.equal(rdbAccepted(11, redis(12)), true); // Valkey 8 -> Redis 8
    assert.equal(rdbAccepted(12, redis(10)), false); // 8.0 -> 7.0
    assert.equal(rdbAccepted(11, redis(10)), false); // Valkey 8 -> 7.0
    assert.equal(rdbAccepted(11, redis(11)), true); // Valkey 8 -> 7.2
    assert.equal(rdbAccepted(80, redis(13)), false); // Valkey 9 -> Redis 8.6
  });
  it("Valkey refuses other projects' formats 12 to 79 even when its own number is higher", () => {
    assert.equal(rdbAccepted(12, valkey(11)), false); // Redis 8 -> Valkey 8
    assert.equal(rdbAccepted(12, valkey(80)), false); // Redis 8 -> Valkey 9
    assert.equal(rdbAccepted(13, valkey(81)), false);
    assert.equal(rdbAccepted(11, valkey(80)), true); // Valkey 8 -> Valkey 9
    assert.equal(rdbAccepted(10, valkey(11)), true); // Redis 7.0 -> Valkey 8
    assert.equal(rdbAccepted(80, valkey(11)), false); // Valkey 9 -> Valkey 8
  });
});
