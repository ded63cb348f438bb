// The follower's hold on its run: what each renewal's answer makes it do, and that a control Redis
// that stops answering for a whole lease counts as fenced. The channel is the follower's interface
// to the control Redis (FollowerChannel), answered here by the test.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunLease } from '../../../../src/strategies/live-phase/run-lease.js';
import type { HeartbeatResult } from '../../../../src/strategies/live-phase/types.js';
import { createLogger } from '../../../../src/util/logger.js';

function lease(heartbeat: () => Promise<HeartbeatResult>, leaseMs = 150) {
  const seen: string[] = [];
  const l = new RunLease({
    channel: { heartbeat },
    ref: { migrationId: 'm', run: 1 },
    epoch: 3,
    leaseMs,
    on: {
      fenced: () => seen.push('fenced'),
      aborted: () => seen.push('aborted'),
      lost: () => seen.push('lost'),
    },
    logger: createLogger({ level: 'silent' }),
  });
  return { l, seen };
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('RunLease', () => {
  it('renews every third of the lease and reports nothing while the answer is ok', async () => {
    let renewals = 0;
    const { l, seen } = lease(async () => {
      renewals++;
      return 'ok';
    });
    l.start();
    try {
      await until('three renewals', () => renewals >= 3);
      assert.deepEqual(seen, []);
    } finally {
      l.stop();
    }
    const after = renewals;
    await sleep(200);
    assert.equal(renewals, after, 'no renewal after stop()');
  });

  for (const answer of ['fenced', 'aborted', 'lost'] as const) {
    it(`passes on "${answer}"`, async () => {
      const { l, seen } = lease(async () => answer);
      l.start();
      try {
        await until(answer, () => seen.length > 0);
        assert.equal(seen[0], answer);
      } finally {
        l.stop();
      }
    });
  }

  it('a control Redis that does not answer for a whole lease counts as fenced', async () => {
    const { l, seen } = lease(() => new Promise<HeartbeatResult>(() => {}));
    l.start();
    try {
      await until('fenced', () => seen.includes('fenced'));
      assert.deepEqual([...new Set(seen)], ['fenced']);
    } finally {
      l.stop();
    }
  });

  it('renewals that fail only briefly do not fence', async () => {
    let n = 0;
    const { l, seen } = lease(async () => {
      n++;
      if (n === 1) throw new Error('connection reset');
      return 'ok';
    }, 1500);
    l.start();
    try {
      await until('a renewal after the failure', () => n >= 3);
      assert.deepEqual(seen, []);
    } finally {
      l.stop();
    }
  });
});
