// migrate's line for a step run per cluster shard, and its rate bound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shardProgressLine, shardProgressPrinter } from '../../../src/cli/shard-progress.js';
import type { ProgressUpdate, ShardProgressLine } from '../../../src/runbook/model.js';

const line = (i: number, state: ShardProgressLine['state'], keysDone: number): ShardProgressLine => ({
  shard: `${i}${'f'.repeat(39)}`,
  node: `127.0.0.1:700${i}`,
  state,
  keysDone,
  keysTotal: 3000,
  worker: `w${i}`,
});

const update = (shards: ShardProgressLine[]): ProgressUpdate => ({
  migrationId: 'm1',
  stepId: '2-bulk-copy',
  at: '2026-01-01T00:00:00.000Z',
  keysDone: shards.reduce((n, s) => n + s.keysDone, 0),
  keysTotal: 9000,
  keysPerSecond: 1500,
  shards,
});

test('the line has the totals and each shard: node, state, keys and worker', () => {
  assert.equal(
    shardProgressLine(update([line(1, 'done', 3000), line(2, 'running', 1200), line(3, 'waiting', 0)])),
    '2-bulk-copy: 4,200 / 9,000 keys, 1,500 keys/s, 1 of 3 shards done · 127.0.0.1:7001 (1fffffff) done 3,000/3,000 [w1] · ' +
      '127.0.0.1:7002 (2fffffff) running 1,200/3,000 [w2] · 127.0.0.1:7003 (3fffffff) waiting 0/3,000 [w3]',
  );
  const many = Array.from({ length: 11 }, (_, i) => line(i, 'running', 10));
  assert.match(shardProgressLine(update(many))!, / · and 3 more$/);
  assert.equal(shardProgressLine({ ...update([]), shards: undefined }), undefined);
});

test('printed at most once per interval, and at once when a shard finishes', () => {
  const printed: ProgressUpdate[] = [];
  const print = shardProgressPrinter((u) => printed.push(u), 60_000);
  print(update([line(1, 'running', 10), line(2, 'running', 10)]));
  print(update([line(1, 'running', 20), line(2, 'running', 20)]));
  assert.equal(printed.length, 1, 'within the interval');
  print(update([line(1, 'done', 3000), line(2, 'running', 30)]));
  assert.equal(printed.length, 2, 'a shard finished');
});
