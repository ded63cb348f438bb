// The status the follower publishes, derived from its parts: pure functions, so the state machine
// is table-tested without servers (the follower owns the object and when it is published).

import type { LiveCounters } from './live-feed.js';
import { isCaughtUp } from './spec.js';
import type { FollowerMode, FollowerRef, FollowerState, FollowerStatus } from './types.js';

/** A run's first status; a takeover keeps what the last holder counted, handled and warned. */
export function initialFollowerStatus(
  at: { ref: FollowerRef; epoch: number; worker: string; mode: FollowerMode },
  previous: FollowerStatus | undefined,
): FollowerStatus {
  return {
    run: at.ref.run,
    epoch: at.epoch,
    worker: at.worker,
    mode: at.mode,
    state: 'starting',
    subscribed: false,
    applying: false,
    caughtUp: false,
    pendingKeys: 0,
    lagMs: 0,
    eventsReceived: 0,
    keysApplied: previous?.keysApplied ?? 0,
    ...(previous?.sourceIdentity ? { sourceIdentity: previous.sourceIdentity } : {}),
    ...(previous?.sourceIdentities ? { sourceIdentities: previous.sourceIdentities } : {}),
    reconnects: 0,
    rescans: 0,
    rescanPending: false,
    reconciledOnStart: false,
    handledSeq: previous?.handledSeq ?? 0,
    paused: false,
    drained: false,
    warnings: [...(previous?.warnings ?? [])],
    updatedAt: new Date().toISOString(),
    ...(previous?.drain ? { drain: previous.drain } : {}),
  };
}

export type { LiveCounters } from './live-feed.js';

/**
 * Folds live sync's counters (when it runs) into the status, works out whether it is caught up,
 * and derives the steady state.
 */
export function refreshFollowerStatus(
  s: FollowerStatus,
  mode: FollowerMode,
  live: LiveCounters | undefined,
  caughtUpLagMs: number,
): void {
  if (live) {
    const l = live.status;
    s.pendingKeys = l.pendingKeys;
    s.lagMs = l.oldestPendingAgeMs ?? 0;
    s.eventsReceived = l.eventsReceived;
    s.keysApplied = live.keysAppliedBefore + l.keysApplied;
    s.reconnects = l.reconnects;
    s.rescans = l.rescans;
    s.rescanPending = l.rescanPending;
    s.caughtUp = l.caughtUp ?? isCaughtUp(l, caughtUpLagMs);
    if (l.psync) s.psync = l.psync;
  } else {
    s.caughtUp = mode === 'pause-only' || (s.paused && s.drained);
  }
  if (s.paused && s.drained) s.caughtUp = true;
  s.state = derivedState(s, mode);
}

/** States the follower sets itself and keeps until it sets another (pausing: while paused). */
const EXPLICIT_STATES: ReadonlySet<FollowerState> = new Set(['stopped', 'failed', 'pausing', 'resuming']);

/** The state the flags say, unless the follower set one itself that still holds. */
export function derivedState(
  s: Pick<FollowerStatus, 'state' | 'paused' | 'drained' | 'subscribed' | 'applying' | 'caughtUp'>,
  mode: FollowerMode,
): FollowerState {
  if (EXPLICIT_STATES.has(s.state) && !(s.state === 'pausing' && !s.paused)) return s.state;
  if (s.paused && s.drained) return 'paused';
  if (mode === 'live' && !s.subscribed) return 'starting';
  if (mode === 'pause-only') return s.paused ? 'pausing' : 'starting';
  if (!s.applying) return 'collecting';
  return s.caughtUp ? 'following' : 'catching_up';
}
