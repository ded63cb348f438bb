// Audit events: what happened to a migration, when, and who did it. Appended to a Redis stream per
// migration (the durable audit trail) and to one bounded global stream that adapters tail.
import type { StepKind } from '../planner/types.js';

export const EVENT_TYPES = [
  'migration_created',
  'migration_planned',
  'migration_started',
  'approval_requested',
  'approval_recorded', // one approval towards a quorum larger than one
  'approval_refused',
  'step_approved',
  'step_rejected',
  'approval_expired',
  'confirmation_requested',
  'step_confirmed',
  'step_amended',
  'step_started',
  'step_resumed', // claimed again after a stall, a shutdown or a transient error
  'step_retrying',
  'step_succeeded',
  'step_failed',
  'step_fenced',
  'step_aborted',
  'step_retry_requested',
  'verification',
  'migration_aborted',
  'migration_succeeded',
  'migration_failed',
  'migration_rejected',
  'lock_cleared', // an approver cleared a stale server lock the migration held
  'note',
  'error',
] as const;
export type AuditEventType = (typeof EVENT_TYPES)[number];

export interface AuditEvent {
  /** Stream entry id of the per-migration stream (set once stored). */
  id?: string;
  migrationId: string;
  type: AuditEventType;
  at: string;
  /** Slack user id of a person, `system`, or `worker:<id>`. */
  actor: string;
  stepId?: string;
  stepKind?: StepKind;
  /** One sentence for people. */
  message: string;
  data?: Record<string, unknown>;
}

export const SYSTEM_ACTOR = 'system';

/** How a worker is named as the actor of the events it writes. */
export function workerActor(workerId: string): string {
  return `worker:${workerId}`;
}
