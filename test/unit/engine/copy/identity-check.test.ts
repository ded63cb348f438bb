import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CopyIdentityCheck,
  type Identities,
  MAX_TARGET_RESTARTS,
  startOver,
  TargetLost,
} from '../../../../src/engine/copy/identity-check.js';
import type { CopyCheckpoint } from '../../../../src/engine/copy/types.js';
import { ServerChangedError, type ServerIdentity } from '../../../../src/engine/identity/index.js';

const id = (runId: string, keys: number, role: 'master' | 'replica' = 'master'): ServerIdentity => ({
  runId,
  role,
  master: role === 'replica' ? '10.0.0.9:6379' : null,
  keys,
  capturedAt: '',
});

function checkpoint(identity?: Identities): CopyCheckpoint {
  return {
    version: 1,
    dbs: [
      { db: 0, cursor: '123', done: true },
      { db: 3, cursor: '77', done: false },
    ],
    functionsDone: true,
    counters: {
      keysCopied: 500,
      bytesCopied: 9000,
      keysSkipped: 1,
      keysFailed: 2,
      keysByTypeFallback: 0,
      bigKeysChunked: 0,
    },
    fingerprint: { source: 's', target: 't', dbs: 'all', match: null },
    targetPrepared: true,
    policy: 'refuse',
    functions: { libraries: 1, action: 'restored' },
    complete: false,
    errors: [{ db: 0, key: 'k', reason: 'r' }],
    errorsOmitted: 0,
    startedAt: '',
    updatedAt: '2026-01-01T00:00:00Z',
    ...(identity ? { identity } : {}),
  };
}

const endpoints = {
  source: { name: 'old', redactedUrl: 'redis://10.0.0.1:6379' },
  target: { name: 'new', redactedUrl: 'redis://10.0.0.2:6379' },
};
const checker = (now: Identities) => new CopyIdentityCheck(endpoints, [0, 3], async () => now);

describe('copy identity check', () => {
  test('a resume against a restarted target says why; against the same one it records its keys', async () => {
    const cp = checkpoint({ source: id('s1', 1000), target: id('t1', 500) });
    const lost = await checker({ source: id('s1', 1000), target: id('t2', 0) }).resume(cp);
    assert.match(
      lost?.lost ?? '',
      /^the target new \(redis:\/\/10\.0\.0\.2:6379\) restarted .* since the checkpoint was saved$/,
    );
    assert.equal(await checker({ source: id('s1', 1000), target: id('t1', 520) }).resume(cp), null);
    assert.equal(cp.identity?.target.keys, 520);
  });

  test('a resume against a source that changed is refused with what to do', async () => {
    const cp = checkpoint({ source: id('s1', 1000), target: id('t1', 500) });
    const err = await checker({ source: id('s1', 1000, 'replica'), target: id('t1', 500) })
      .resume(cp)
      .catch((e: unknown) => e);
    assert.ok(err instanceof ServerChangedError);
    assert.equal(err.exitCode, 1);
    assert.match(err.message, /became a replica of 10\.0\.0\.9:6379 since the checkpoint was saved/);
    assert.match(err.message, /the target keeps the 500 keys copied before\. Delete the checkpoint/);
  });

  test('an old checkpoint without identities takes them from now', async () => {
    const cp = checkpoint();
    assert.equal(await checker({ source: id('s1', 10), target: id('t1', 0) }).resume(cp), null);
    assert.equal(cp.identity?.source.runId, 's1');
  });

  test('during a run: a collapsed target is TargetLost, measured from the last check', async () => {
    const cp = checkpoint({ source: id('s1', 1000), target: id('t1', 0) });
    await checker({ source: id('s1', 1000), target: id('t1', 900) }).check(cp, 'during the copy');
    const err = await checker({ source: id('s1', 1000), target: id('t1', 100) })
      .check(cp, 'during the copy')
      .catch((e: unknown) => e);
    assert.ok(err instanceof TargetLost);
    assert.match(err.reason, /lost most of its data: 100 keys left of 900 .* during the copy/);
  });

  test('starting over resets the progress and gives up after the last allowed restart', () => {
    const cp = checkpoint({ source: id('s1', 1000), target: id('t1', 500) });
    assert.equal(startOver(cp, 'lost 1', id('t2', 0)), true);
    assert.deepEqual(cp.dbs, [
      { db: 0, cursor: '0', done: false },
      { db: 3, cursor: '0', done: false },
    ]);
    assert.equal(cp.counters.keysCopied, 0);
    assert.equal(cp.functionsDone, false);
    assert.deepEqual(cp.errors, []);
    assert.equal(cp.identity?.target.runId, 't2');
    assert.equal(cp.identity?.source.runId, 's1');
    for (let i = 2; i <= MAX_TARGET_RESTARTS; i++)
      assert.equal(startOver(cp, `lost ${i}`, id('t3', 0)), true);
    assert.equal(startOver(cp, 'once more', id('t4', 0)), false);
    assert.equal(cp.restarts?.length, MAX_TARGET_RESTARTS);
  });
});
