import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LiveSyncStatus } from '../../../../src/engine/live-sync/index.js';
import {
  derivedState,
  initialFollowerStatus,
  refreshFollowerStatus,
} from '../../../../src/strategies/live-phase/follower-status.js';
import type { FollowerState, FollowerStatus } from '../../../../src/strategies/live-phase/types.js';

const flags = {
  paused: false,
  drained: false,
  subscribed: false,
  applying: false,
  caughtUp: false,
};

describe('the follower state derived from its flags', () => {
  const cases: [
    string,
    Partial<typeof flags> & { state?: FollowerState },
    'live' | 'pause-only',
    FollowerState,
  ][] = [
    ['live, not subscribed yet', {}, 'live', 'starting'],
    ['subscribed, holding the changes', { subscribed: true }, 'live', 'collecting'],
    ['applying, behind', { subscribed: true, applying: true }, 'live', 'catching_up'],
    ['applying, caught up', { subscribed: true, applying: true, caughtUp: true }, 'live', 'following'],
    [
      'paused and drained',
      { subscribed: true, applying: true, paused: true, drained: true },
      'live',
      'paused',
    ],
    ['pause-only, not paused', {}, 'pause-only', 'starting'],
    ['pause-only, paused, not drained', { paused: true }, 'pause-only', 'pausing'],
    ['pausing, still paused', { state: 'pausing', paused: true, subscribed: true }, 'live', 'pausing'],
    [
      'pausing, the pause was lifted',
      { state: 'pausing', subscribed: true, applying: true },
      'live',
      'catching_up',
    ],
    ['resuming stays', { state: 'resuming', paused: true, drained: true }, 'live', 'resuming'],
    ['stopped stays', { state: 'stopped', subscribed: true }, 'live', 'stopped'],
    ['failed stays', { state: 'failed', paused: true, drained: true }, 'pause-only', 'failed'],
  ];
  for (const [name, given, mode, want] of cases) {
    it(name, () => {
      assert.equal(derivedState({ state: 'starting', ...flags, ...given }, mode), want);
    });
  }
});

describe('refreshing the follower status', () => {
  const ref = { migrationId: 'm', run: 2 };
  const live = (over: Partial<LiveSyncStatus>): LiveSyncStatus =>
    ({
      pendingKeys: 0,
      oldestPendingAgeMs: null,
      eventsReceived: 10,
      keysApplied: 7,
      reconnects: 1,
      rescans: 0,
      rescanPending: false,
      applying: true,
      state: 'following',
      ...over,
    }) as unknown as LiveSyncStatus;

  it('a takeover keeps what the last holder counted, handled and warned', () => {
    const previous = { keysApplied: 40, handledSeq: 3, warnings: ['w'], paused: true } as FollowerStatus;
    const s = initialFollowerStatus({ ref, epoch: 2, worker: 'w2', mode: 'live' }, previous);
    assert.equal(s.keysApplied, 40);
    assert.equal(s.handledSeq, 3);
    assert.deepEqual(s.warnings, ['w']);
    assert.notEqual(s.warnings, previous.warnings, 'a copy');
    assert.equal(s.paused, false, 'the pause is the lease’s to say');
    assert.equal(s.state, 'starting');
  });

  it('adds what this live sync applied to what the run applied before it', () => {
    const s = initialFollowerStatus({ ref, epoch: 1, worker: 'w', mode: 'live' }, undefined);
    s.subscribed = true;
    s.applying = true;
    refreshFollowerStatus(s, 'live', { status: live({ pendingKeys: 3 }), keysAppliedBefore: 40 }, 1000);
    assert.equal(s.keysApplied, 47);
    assert.equal(s.pendingKeys, 3);
    assert.equal(s.eventsReceived, 10);
    assert.equal(s.caughtUp, true, 'a small young backlog counts as caught up');
    assert.equal(s.state, 'following');
  });

  it('without live sync: caught up when pause-only, or paused and drained', () => {
    const s = initialFollowerStatus({ ref, epoch: 1, worker: 'w', mode: 'live' }, undefined);
    refreshFollowerStatus(s, 'live', undefined, 1000);
    assert.equal(s.caughtUp, false);
    s.paused = true;
    s.drained = true;
    refreshFollowerStatus(s, 'live', undefined, 1000);
    assert.equal(s.caughtUp, true);
    assert.equal(s.state, 'paused');
    const p = initialFollowerStatus({ ref, epoch: 1, worker: 'w', mode: 'pause-only' }, undefined);
    refreshFollowerStatus(p, 'pause-only', undefined, 1000);
    assert.equal(p.caughtUp, true);
  });
});
