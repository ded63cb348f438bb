// The live phase of client-side copies: a follower job per migration that owns live sync and the
// write pause, and the executors that drive it (see follower.ts and executors.ts).

export { cleanupLivePhase } from './cleanup.js';
// ensureFollower, ensurePaused and waitForFollower are the executors' own (./executors.ts).
export { isFresh, type LivePhase } from './control.js';
export {
  backlogVerifyExecutor,
  type LivePhaseProvider,
  liveBulkCopyExecutor,
  liveSyncExecutor,
  pausedRepointExecutor,
  resumeWritesExecutor,
  writePauseExecutor,
} from './executors.js';
export { type ControlLost, Follower, type FollowerOptions, type FollowerOutcome } from './follower.js';
export {
  effectiveGoal,
  type FollowerSpec,
  followerSpec,
  hasLiveSync,
  isCaughtUp,
  pausedDuring,
  reconcileDecision,
  repointStarted,
} from './spec.js';
export { type CommandResult, type FollowerRecord, FollowerStore } from './store.js';
export * from './types.js';
