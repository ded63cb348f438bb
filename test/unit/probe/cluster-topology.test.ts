import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatSlotRanges,
  parseClusterShards,
  parseClusterSlots,
  slotCount,
} from '../../../src/probe/cluster-topology.js';

// As ioredis returns CLUSTER SHARDS of Redis 7.0 over RESP2 (flat field lists).
const node = (id: string, port: number, role: string, extra: unknown[] = []) => [
  'id',
  id,
  'port',
  port,
  'ip',
  '10.0.0.1',
  'endpoint',
  '10.0.0.1',
  'role',
  role,
  'replication-offset',
  100,
  'health',
  'online',
  ...extra,
];
const SHARDS = [
  ['slots', [5461, 10922], 'nodes', [node('b', 7002, 'master'), node('e', 7005, 'replica')]],
  [
    'slots',
    [0, 100, 200, 5460],
    'nodes',
    [node('a', 7001, 'master', ['tls-port', 8001]), node('d', 7004, 'replica')],
  ],
  ['slots', [], 'nodes', [node('x', 7009, 'master')]],
  ['slots', [10923, 16383, 101, 199], 'nodes', [node('c', 7003, 'master')]],
];

test('CLUSTER SHARDS: shards that own slots, in slot order, with primary and replicas', () => {
  const shards = parseClusterShards(SHARDS, 'fallback', false);
  assert.deepEqual(
    shards.map((s) => [s.primary.id, s.primary.port, s.slots, s.replicas.map((r) => r.id)]),
    [
      [
        'a',
        7001,
        [
          [0, 100],
          [200, 5460],
        ],
        ['d'],
      ],
      [
        'c',
        7003,
        [
          [101, 199],
          [10923, 16383],
        ],
        [],
      ],
      ['b', 7002, [[5461, 10922]], ['e']],
    ],
  );
  assert.equal(
    shards.reduce((n, s) => n + slotCount(s.slots), 0),
    16384,
  );
  assert.equal(shards[0]!.primary.health, 'online');
});

test('CLUSTER SHARDS: TLS takes tls-port; an unknown endpoint falls back to the ip, then the probed host', () => {
  const tls = parseClusterShards(SHARDS, 'fallback', true);
  assert.equal(tls[0]!.primary.port, 8001);
  assert.equal(tls[1]!.primary.port, 7003);
  const anon = parseClusterShards(
    [
      [
        'slots',
        [0, 16383],
        'nodes',
        [['id', 'a', 'port', 6379, 'ip', '', 'endpoint', '?', 'role', 'master']],
      ],
    ],
    'redis.example',
    false,
  );
  assert.equal(anon[0]!.primary.host, 'redis.example');
});

test('CLUSTER SLOTS: ranges grouped by primary', () => {
  const reply = [
    [0, 100, ['10.0.0.1', 7001, 'a'], ['10.0.0.4', 7004, 'd']],
    [101, 199, ['10.0.0.3', 7003, 'c']],
    [200, 5460, ['10.0.0.1', 7001, 'a'], ['10.0.0.4', 7004, 'd']],
  ];
  const shards = parseClusterSlots(reply, 'fallback');
  assert.deepEqual(
    shards.map((s) => [s.primary.id, s.slots, s.replicas.map((r) => `${r.host}:${r.port}`)]),
    [
      [
        'a',
        [
          [0, 100],
          [200, 5460],
        ],
        ['10.0.0.4:7004'],
      ],
      ['c', [[101, 199]], []],
    ],
  );
  assert.equal(formatSlotRanges(shards[0]!.slots), '0-100, 200-5460');
  assert.equal(formatSlotRanges([[7, 7]]), '7');
});
