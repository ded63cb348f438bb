import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBytes, formatDuration, formatProbeReport, table } from '../../../src/probe/report.js';
import { PROBED_COMMANDS, type ProbeResult } from '../../../src/probe/types.js';

function result(): ProbeResult {
  const commands = Object.fromEntries(
    PROBED_COMMANDS.map((c) => [c, { available: true }]),
  ) as ProbeResult['commands'];
  commands.REPLICAOF = { available: false, reason: 'unknown command (renamed or disabled)' };
  return {
    endpoint: { name: 'source', redactedUrl: 'redis://u:***@h:6379/0' },
    probedAt: '2025-01-01T00:00:00.000Z',
    server: {
      version: '7.0.15',
      flavor: 'redis',
      rdbVersion: 10,
      rdbVersionSource: 'dump',
      mode: 'standalone',
      uptimeSeconds: 7300,
    },
    replication: { role: 'master', connectedReplicas: 0, replOffset: 5 },
    databases: [
      { db: 0, keys: 1200, expires: 3, avgTtlMs: 60_000 },
      { db: 3, keys: 4, expires: 0, avgTtlMs: 0 },
    ],
    configuredDatabases: 16,
    totalKeys: 1204,
    totalExpires: 3,
    memory: { usedBytes: 2 * 1024 * 1024, maxmemoryBytes: 0, policy: 'noeviction' },
    notifyKeyspaceEvents: '',
    protoMaxBulkLen: 512 * 1024 * 1024,
    modules: [],
    functionLibraries: 1,
    commands,
    bigKeys: { sampled: 1204, keys: [{ db: 3, key: 'big', type: 'hash', bytes: 204_800, elements: 2000 }] },
    notes: ['something could not be read'],
  };
}

describe('formatProbeReport', () => {
  it('has the sections, ✓/✗ with reasons, and the big keys', () => {
    const text = formatProbeReport(result());
    for (const section of [
      'Server',
      'Databases (16 configured)',
      'Commands',
      'Big keys (1,204 keys sampled)',
      'Notes',
    ])
      assert.ok(text.includes(section), section);
    assert.match(text, /✗ {2}REPLICAOF +unknown command \(renamed or disabled\)/);
    assert.match(text, /✓ {2}DUMP$/m);
    assert.match(text, /RDB format +10 \(from a DUMP payload\)/);
    assert.match(text, /keyspace events +off/);
    assert.match(text, /2,000 +big/);
    assert.ok(text.startsWith('source (redis://u:***@h:6379/0)'));
  });

  it('says when big keys come from a partial sample', () => {
    const r = result();
    r.bigKeys = { sampled: 10_000, keys: [] };
    r.totalKeys = 1_000_000;
    const text = formatProbeReport(r);
    assert.match(text, /Big keys \(10,000 of 1,000,000 keys sampled\)\n {2}a 1% sample/);
  });

  it('shows the module-key sample: what was found where, and how much was looked at', () => {
    const found = formatProbeReport({
      ...result(),
      modules: [{ name: 'vectorset', version: 1 }],
      moduleKeys: { sampled: 1204, keys: 1204, types: [{ db: 3, type: 'vectorset', keys: 2 }] },
    });
    assert.match(found, /module keys +vectorset: 2 in db 3 \(every key looked at\)/);
    const none = formatProbeReport({ ...result(), moduleKeys: { sampled: 10_000, keys: 52_000, types: [] } });
    assert.match(none, /module keys +none \(10,000 of 52,000 keys sampled\)/);
    assert.doesNotMatch(formatProbeReport(result()), /module keys/);
  });

  it('says unknown for what could not be read', () => {
    const r = result();
    r.notifyKeyspaceEvents = null;
    r.protoMaxBulkLen = null;
    r.configuredDatabases = null;
    const text = formatProbeReport(r);
    assert.match(text, /keyspace events +unknown/);
    assert.match(text, /Databases \(unknown configured\)/);
  });
});

describe('formatting helpers', () => {
  it('aligns columns, numbers to the right', () => {
    assert.deepEqual(
      table(
        [
          ['db', 'keys'],
          ['0', '12'],
          ['10', '3'],
        ],
        [1],
      ),
      ['  db  keys', '  0     12', '  10     3'],
    );
  });

  it('formats bytes and durations', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(512 * 1024 * 1024), '512.0 MiB');
    assert.equal(formatDuration(59), '59 s');
    assert.equal(formatDuration(3725), '1 h 2 min');
    assert.equal(formatDuration(90_000), '1 d 1 h');
  });
});
