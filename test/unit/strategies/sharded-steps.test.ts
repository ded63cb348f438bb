// The step's view of its shard jobs: progress totals over the shards, and the reports summed
// (a verify with a difference on any shard fails, naming the shard).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ShardResult } from '../../../src/strategies/shared/shard-flow.js';
import {
  shardedProgress,
  summarizeCopy,
  summarizeVerify,
} from '../../../src/strategies/shared/sharded-steps.js';

const result = (i: number, over: Partial<ShardResult> = {}): ShardResult => ({
  shard: `${i}${'a'.repeat(39)}`,
  node: `127.0.0.1:700${i}`,
  task: 'copy',
  keys: 100 * i,
  vanished: 1,
  bigKeys: 0,
  byType: 0,
  keysFailed: 0,
  notes: [],
  differences: 0,
  identical: null,
  complete: true,
  resumed: false,
  worker: `w${i % 2}`,
  durationMs: 10,
  ...over,
});

test('progress sums the shards; the total is known only when every shard knows its own', () => {
  const lines = [
    { shard: 'a', node: 'n1', state: 'done' as const, keysDone: 50, keysTotal: 50 },
    { shard: 'b', node: 'n2', state: 'running' as const, keysDone: 20, keysTotal: 100 },
  ];
  const p = shardedProgress('copy', lines, Date.now() - 1000);
  assert.equal(p.keysDone, 70);
  assert.equal(p.keysTotal, 150);
  assert.equal(p.message, '1 of 2 shards done');
  assert.equal(p.shards?.length, 2);
  const unknown = shardedProgress(
    'verify',
    [...lines, { ...lines[1]!, shard: 'c', keysTotal: null }],
    Date.now(),
  );
  assert.equal(unknown.keysTotal, undefined);
  assert.equal(unknown.phase, 'compare');
});

test('the copy result has each shard and the totals', () => {
  const out = summarizeCopy([result(1), result(2), result(3, { keysFailed: 2 })]);
  assert.equal(out.result?.keysCopied, 600);
  assert.equal(out.result?.keysSkipped, 3);
  assert.equal((out.result!.shards as unknown[]).length, 3);
  assert.equal(out.verdict, 'warning');
  assert.equal(
    out.summary,
    'copied 600 keys from 3 shard(s) on 2 worker(s); 3 vanished before they could be copied; 2 failed',
  );
});

test('a difference on one shard fails the verify, naming that shard and the target node', () => {
  const ok = (i: number) => result(i, { task: 'verify', identical: true });
  assert.equal(summarizeVerify([ok(1), ok(2)]).verdict, 'ok');
  const bad = result(2, {
    task: 'verify',
    identical: false,
    differences: 1,
    notes: [
      {
        key: 'k:1',
        keyHex: '6b3a31',
        detail: 'missing on the target',
        targetNode: '127.0.0.1:8002',
        kind: 'missing',
      },
    ],
  });
  const out = summarizeVerify([ok(1), bad, ok(3)]);
  assert.equal(out.verdict, 'failed');
  assert.match(out.summary, /^verification failed: 1 difference\(s\) \(127\.0\.0\.1:7002 \(2aaaaaaa\): 1\)/);
  assert.match(out.summary, /key k:1 \(target node 127\.0\.0\.1:8002\): missing on the target/);
});
