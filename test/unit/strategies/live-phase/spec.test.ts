import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planMigration } from '../../../../src/planner/plan.js';
import type { PlanOptions } from '../../../../src/planner/types.js';
import type { Migration } from '../../../../src/runbook/model.js';
import {
  effectiveGoal,
  followerSpec,
  hasLiveSync,
  isCaughtUp,
  pausedDuring,
  reconcileDecision,
  repointStarted,
} from '../../../../src/strategies/live-phase/index.js';
import { options, source, target } from '../../planner/fixtures.js';
import { memoryMigration } from '../../runbook/fixtures.js';

function migration(src: Parameters<typeof source>[0], opts: Partial<PlanOptions> = {}): Migration {
  const plan = planMigration(source(src), target(), options({ strategy: 'dump-restore', ...opts }));
  assert.equal(plan.strategy, 'dump-restore', JSON.stringify(plan.blockers));
  return memoryMigration({}, plan);
}

const LIVE = { notifyKeyspaceEvents: 'KEA' };
const ENABLE = { notifyKeyspaceEvents: '' };
const NONE = {
  notifyKeyspaceEvents: '',
  missing: { 'CONFIG SET': 'unknown command', 'CONFIG GET': 'unknown command' },
};

describe('follower spec from the plan', () => {
  it('follows changes when the plan has live sync, with the copy settings of the plan', () => {
    const spec = followerSpec(migration(LIVE, { dbs: [0, 3], match: 'user:*', writePauseTimeoutMs: 5000 }));
    assert.equal(spec.mode, 'live');
    assert.deepEqual(spec.live, {
      feed: 'notifications',
      onNonEmptyTarget: 'refuse',
      dbs: [0, 3],
      match: 'user:*',
      mode: 'auto',
      setConfig: false,
      bigKeyThresholdBytes: 16 * 1024 * 1024,
    });
    assert.deepEqual(spec.pause, { method: 'client-pause', timeoutMs: 5000 });
    assert.equal(spec.killStaleClients, true);
  });

  it('a psync plan follows the replication stream, with the mapping and the full sync policy', () => {
    const plan = planMigration(
      source({ dbs: { 3: 10 } }),
      target({ missing: { REPLICAOF: 'unknown command' }, dbs: { 3: 1 } }),
      options({ dbs: [3], dbsFromUrl: true, dbRemap: { from: 3, to: 5 }, onNonEmptyTarget: 'replace' }),
    );
    assert.equal(plan.strategy, 'psync', JSON.stringify(plan.blockers));
    const spec = followerSpec(memoryMigration({}, plan));
    assert.equal(spec.mode, 'live');
    assert.equal(spec.live?.feed, 'psync');
    assert.equal(spec.live?.onNonEmptyTarget, 'replace');
    assert.equal(spec.live?.setConfig, false);
    assert.deepEqual(spec.live?.dbs, [3]);
    assert.deepEqual(spec.live?.remap, { from: 3, to: 5 });
  });

  it('turns notifications on when the plan says so; copies type by type when the plan does', () => {
    const spec = followerSpec(migration({ notifyKeyspaceEvents: 'Kx' }, { byType: true }));
    assert.equal(spec.live?.setConfig, true);
    assert.equal(spec.live?.mode, 'by-type');
    assert.equal(followerSpec(migration(ENABLE)).live?.setConfig, true);
    assert.equal(followerSpec(migration(LIVE)).live?.setConfig, false);
  });

  it('only holds the pause when the plan pauses first (no change capture)', () => {
    const m = migration(NONE);
    assert.equal(hasLiveSync(m), false);
    const spec = followerSpec(m);
    assert.equal(spec.mode, 'pause-only');
    assert.equal(spec.live, undefined);
    assert.equal(spec.pause.timeoutMs, 60_000);
  });

  it('a person stops the writes when CLIENT PAUSE is not there; no kill without CLIENT KILL', () => {
    const spec = followerSpec(
      migration({
        ...LIVE,
        missing: { 'CLIENT PAUSE': 'unknown command', 'CLIENT KILL': 'unknown command' },
      }),
    );
    assert.equal(spec.pause.method, 'manual');
    assert.equal(spec.killStaleClients, false);
  });

  it('knows which steps run under the write pause', () => {
    const live = migration(LIVE);
    const kindOf = (m: Migration, kind: string) => m.steps.find((s) => s.kind === kind)!;
    assert.equal(pausedDuring(live, kindOf(live, 'bulk_copy')), false);
    assert.equal(pausedDuring(live, kindOf(live, 'verify')), false);
    assert.equal(pausedDuring(live, kindOf(live, 'repoint')), true);
    assert.equal(pausedDuring(live, kindOf(live, 'post_verify')), false);
    const first = migration(NONE);
    assert.equal(pausedDuring(first, kindOf(first, 'bulk_copy')), true);
    assert.equal(pausedDuring(first, kindOf(first, 'verify')), true);
    assert.equal(pausedDuring(first, kindOf(first, 'resume_writes')), false);
  });

  it('counts the repoint as started once a worker took it, or a person was asked', () => {
    const m = migration(LIVE);
    assert.equal(repointStarted(m), false);
    const repoint = m.steps.find((s) => s.kind === 'repoint')!;
    repoint.status = 'awaiting_approval';
    assert.equal(repointStarted(m), true);
    repoint.status = 'pending';
    repoint.attempts = 1;
    assert.equal(repointStarted(m), true, 'a retried repoint started before');
  });
});

describe('the goal the follower works towards', () => {
  const m = migration(LIVE);
  const withStatus = (status: Migration['status'], failed?: string): Migration => {
    const copy = structuredClone(m);
    copy.status = status;
    if (failed) copy.steps.find((s) => s.kind === failed)!.status = 'failed';
    return copy;
  };

  it('is the commanded one while the migration runs or waits for a person', () => {
    for (const status of ['running', 'awaiting_approval'] as const) {
      assert.deepEqual(effectiveGoal('pause', withStatus(status), false), { goal: 'pause' });
    }
    assert.deepEqual(effectiveGoal('follow', withStatus('expired'), false), { goal: 'follow' });
  });

  it('lifts the pause (follows on) while a request under it has expired: nobody is there to go on', () => {
    assert.deepEqual(effectiveGoal('pause', withStatus('expired'), false), {
      goal: 'follow',
      because: 'a request under the write pause expired',
    });
  });

  it('is abort when the migration was aborted (flag or document) or is gone', () => {
    const aborted = withStatus('aborting');
    aborted.abort = { userId: 'UB', at: '2026-01-01T00:00:00Z' };
    assert.deepEqual(effectiveGoal('resume', aborted, false), {
      goal: 'abort',
      because: 'the migration was aborted by UB',
    });
    assert.equal(effectiveGoal('follow', withStatus('running'), true).goal, 'abort');
    assert.equal(effectiveGoal('follow', undefined, false).goal, 'abort');
  });

  it('is stop when the migration failed, was rejected or is done: writes resume', () => {
    const failed = effectiveGoal('pause', withStatus('failed', 'repoint'), false);
    assert.equal(failed.goal, 'stop');
    assert.match(failed.because ?? '', /"Repoint the apps" failed/);
    assert.equal(effectiveGoal('follow', withStatus('rejected'), false).goal, 'stop');
    assert.equal(effectiveGoal('resume', withStatus('succeeded'), false).goal, 'stop');
  });
});

describe('reconcile at start', () => {
  const base = {
    launchedWithReconcile: false,
    restart: false,
    previous: undefined,
    lapsed: false,
    repointStarted: false,
  };

  it('not for the first start before the bulk copy scans; yes for a new run or a takeover', () => {
    assert.deepEqual(reconcileDecision(base), { reconcile: false });
    assert.deepEqual(reconcileDecision({ ...base, launchedWithReconcile: true }), { reconcile: true });
    assert.deepEqual(
      reconcileDecision({ ...base, restart: true, previous: { paused: false, drained: false } }),
      { reconcile: true },
    );
  });

  it('not after a drained pause that held; yes when the pause lapsed before the repoint', () => {
    const previous = { paused: true, drained: true };
    assert.deepEqual(reconcileDecision({ ...base, restart: true, previous }), { reconcile: false });
    assert.deepEqual(reconcileDecision({ ...base, restart: true, previous, lapsed: true }), {
      reconcile: true,
    });
  });

  it('never once the repoint began (it would undo writes on the target): a warning instead', () => {
    const d = reconcileDecision({
      ...base,
      restart: true,
      previous: { paused: true, drained: true },
      lapsed: true,
      repointStarted: true,
    });
    assert.equal(d.reconcile, false);
    assert.match(d.warning ?? '', /would undo their writes/);
    assert.deepEqual(
      reconcileDecision({
        ...base,
        restart: true,
        previous: { paused: true, drained: true },
        repointStarted: true,
      }),
      { reconcile: false },
      'nothing to warn about when the pause held',
    );
  });
});

describe('caught up', () => {
  const s = {
    applying: true,
    rescanPending: false,
    state: 'following' as const,
    pendingKeys: 0,
    oldestPendingAgeMs: null,
  };
  it('when applying with an empty or young backlog and no reconcile pass due', () => {
    assert.equal(isCaughtUp(s, 1000), true);
    assert.equal(isCaughtUp({ ...s, pendingKeys: 40, oldestPendingAgeMs: 200 }, 1000), true);
    assert.equal(isCaughtUp({ ...s, pendingKeys: 40, oldestPendingAgeMs: 2000 }, 1000), false);
    assert.equal(isCaughtUp({ ...s, applying: false }, 1000), false, 'still collecting');
    assert.equal(isCaughtUp({ ...s, rescanPending: true }, 1000), false);
    assert.equal(isCaughtUp({ ...s, state: 'rescanning' }, 1000), false);
  });
});
