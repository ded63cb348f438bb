import type { StepRef } from '../runbook/model.js';

/**
 * The job id of one run of one step: deterministic, so enqueuing the same run twice adds one job.
 * BullMQ ids may not contain ':' and may not be all digits; the `mb-` prefix rules out the latter.
 */
export function stepJobId(ref: StepRef): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');
  return `mb-${safe(ref.migrationId)}-${safe(ref.stepId)}-a${ref.attempt}`;
}

/** The job id of one run of a migration's follower (one run at a time; a new run gets a new id). */
export function followerJobId(ref: { migrationId: string; run: number }): string {
  return `mb-${ref.migrationId.replace(/[^A-Za-z0-9._-]/g, '_')}-follower-r${ref.run}`;
}

const safeId = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');

/** The parent job of one run of a step that runs per source shard (its children are the shards). */
export function shardParentJobId(ref: StepRef, task: string): string {
  return `mb-${safeId(ref.migrationId)}-${safeId(ref.stepId)}-a${ref.attempt}-${task}-shards`;
}

/** The job of one source shard in one run of a step. */
export function shardJobId(ref: StepRef, shard: string): string {
  return `mb-${safeId(ref.migrationId)}-${safeId(ref.stepId)}-a${ref.attempt}-shard-${safeId(shard)}`;
}
