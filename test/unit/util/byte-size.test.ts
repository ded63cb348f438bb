import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBytes } from '../../../src/cli/options/values.js';
import { formatBinaryBytes, formatRedisSize, parseByteSize } from '../../../src/util/byte-size.js';

// The cases where the CLI's parser (kb = 1000) and the replication parser (kb = 1024) used to
// disagree: both now read sizes as Redis does (redis.conf: "1k => 1000 bytes, 1kb => 1024 bytes").
test('a bare letter is decimal, a letter with b is binary, as in Redis', () => {
  assert.equal(parseByteSize('1k'), 1000);
  assert.equal(parseByteSize('1kb'), 1024);
  assert.equal(parseByteSize('1m'), 1_000_000);
  assert.equal(parseByteSize('64mb'), 64 * 1024 * 1024);
  assert.equal(parseByteSize('1g'), 1_000_000_000);
  assert.equal(parseByteSize('1gb'), 1024 ** 3);
});

test('IEC spellings, bytes, case and spaces', () => {
  assert.equal(parseByteSize('64MiB'), 64 * 1024 * 1024);
  assert.equal(parseByteSize('2KiB'), 2048);
  assert.equal(parseByteSize('1GiB'), 1024 ** 3);
  assert.equal(parseByteSize('64MB'), parseByteSize('64mib'));
  assert.equal(parseByteSize('512b'), 512);
  assert.equal(parseByteSize(' 1048576 '), 1_048_576);
  assert.equal(parseByteSize('8 mb'), 8 * 1024 * 1024);
  assert.equal(parseByteSize('1.5kb'), 1536);
  assert.equal(parseByteSize('0.5k'), 500);
});

test('what is not a size', () => {
  for (const text of ['', 'lots', 'mb', '-1kb', '1tb', '1 k b', '0x10', '1e6']) {
    assert.equal(parseByteSize(text), null, text);
  }
});

test('formatRedisSize writes what parseByteSize reads back', () => {
  assert.equal(formatRedisSize(1048576), '1mb');
  assert.equal(formatRedisSize(256 * 1024 * 1024), '256mb');
  assert.equal(formatRedisSize(2 * 1024 ** 3), '2gb');
  assert.equal(formatRedisSize(3072), '3kb');
  assert.equal(formatRedisSize(1000), '1000');
  assert.equal(formatRedisSize(0), '0');
  for (const n of [0, 1, 1000, 1024, 1536, 1048576, 5 * 1024 ** 3]) {
    assert.equal(parseByteSize(formatRedisSize(n)), n);
  }
});

test('--big-key-threshold: 64mb is 64 MiB now (it was 64,000,000), 64MiB and 500k as before', () => {
  assert.equal(parseBytes('64mb', '--big-key-threshold'), 64 * 1024 * 1024);
  assert.equal(parseBytes('64MiB', '--big-key-threshold'), 64 * 1024 * 1024);
  assert.equal(parseBytes('500k', '--big-key-threshold'), 500_000);
  assert.throws(() => parseBytes('0', '--big-key-threshold'), /--big-key-threshold must be at least 1 byte/);
  assert.throws(
    () => parseBytes('64 megs', '--big-key-threshold'),
    /must be a size like 64mb.*kb = kib = 1024/,
  );
});

test('formatBinaryBytes labels binary sizes MiB/GiB, as Redis means "mb" and "gb"', () => {
  assert.equal(formatBinaryBytes(512), '512 B');
  assert.equal(formatBinaryBytes(1536), '1.5 KiB');
  assert.equal(formatBinaryBytes(parseByteSize('64mb')!), '64.0 MiB');
  assert.equal(formatBinaryBytes(parseByteSize('1.5gb')!), '1.5 GiB');
});
