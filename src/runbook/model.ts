// The runbook's data: a Migration with its ordered Steps, as stored (JSON) in the control Redis.
// Plain data only, so it round-trips through JSON and can be shown with --json.
import type { Plan, PlannedStep, PlanOptions, StepKind } from '../planner/types.js';
import type { ApprovalPolicy } from './approval-policy.js';

export const STEP_STATUSES = [
  'pending',
  'awaiting_approval',
  'approved',
  'running',
  'succeeded',
  'failed',
  'rejected',
  'expired',
  'aborted',
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const MIGRATION_STATUSES = [
  'created', // stored, not started
  'running', // a step is queued or running
  'awaiting_approval', // a step waits for a person
  'expired', // an approval request expired; someone has to request it again
  'succeeded',
  'failed',
  'rejected',
  'aborting', // abort requested, a running step is winding down
  'aborted',
] as const;
export type MigrationStatus = (typeof MIGRATION_STATUSES)[number];

/** What a person is asked for while a step is `awaiting_approval`. */
export type GateKind = 'approval' | 'confirmation';

export interface ApprovalRecord {
  userId: string;
  at: string;
  /** The step hash the person saw; only approvals of the current hash count. */
  stepHash: string;
}

export interface Decision {
  userId: string;
  at: string;
  reason?: string;
}

export type Verdict = 'ok' | 'warning' | 'failed';

export interface Step extends PlannedStep {
  /** sha256 of the step's canonical parameters; an approval is bound to it. */
  hash: string;
  status: StepStatus;
  /**
   * Run number (1, 2, ...), part of the job id. Raised when a failed step is retried by a person,
   * so the retry gets a fresh job while redeliveries of the old one are ignored.
   */
  attempt: number;
  /** Executions started (claims by a worker), across retries and takeovers. */
  attempts: number;
  /** Fencing token: raised atomically whenever a worker claims the step. */
  epoch: number;
  /** What the open gate asks for, while awaiting_approval. */
  gate?: GateKind;
  /** Shown to people with a confirmation gate ("repoint the apps, then confirm"). */
  gatePrompt?: string;
  approvalRequestedAt?: string;
  /** Unset for confirmations, which do not expire. */
  approvalExpiresAt?: string;
  /** Approvals collected towards the quorum for the current request. */
  approvals: ApprovalRecord[];
  quorum: number;
  approvedBy?: Decision[];
  rejectedBy?: Decision;
  confirmedBy?: Decision;
  queuedAt?: string;
  startedAt?: string;
  finishedAt?: string;
  updatedAt: string;
  /** The worker currently holding the step (while running). */
  worker?: string;
  summary?: string;
  result?: Record<string, unknown>;
  verdict?: Verdict;
  error?: string;
  /** Last transient error while retries continue. */
  lastError?: string;
  /** Present when read with checkpoints: the last checkpoint the executor saved. */
  checkpoint?: unknown;
  checkpointAt?: string;
}

export interface Migration {
  id: string;
  /** Compare-and-set version; raised by every write. */
  version: number;
  source: string;
  target: string;
  options: Partial<PlanOptions>;
  plan: Plan;
  requester: string;
  buddy?: string;
  /**
   * Who may approve, the quorum per step kind and the expiry, fixed when the migration was created
   * (absent only in documents from before that; see policyOf).
   */
  policy?: ApprovalPolicy;
  /** The servers this migration holds while it is active (see locks.ts), as lock units. */
  locks?: string[];
  status: MigrationStatus;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
  abort?: Decision;
  steps: Step[];
  /** Free-form strings for adapters (e.g. a Slack channel and thread ts). */
  meta: Record<string, string>;
}

/** Identifies one run of one step: what a job carries. */
export interface StepRef {
  migrationId: string;
  stepId: string;
  attempt: number;
}

export type { StepKind };

/** Progress of a running step, as published (throttled) to watchers. */
export interface StepProgress {
  phase?: string;
  keysDone?: number;
  keysTotal?: number;
  bytesDone?: number;
  keysPerSecond?: number;
  etaSeconds?: number | null;
  lagMs?: number;
  message?: string;
  /** A step run as one job per source shard: each shard's line (the totals above sum them). */
  shards?: ShardProgressLine[];
}

/** One shard job of a step, as watchers see it. */
export interface ShardProgressLine {
  /** The source shard's id (its primary's node id, or 'standalone'). */
  shard: string;
  /** `host:port` of the node scanned. */
  node: string;
  state: 'waiting' | 'running' | 'done' | 'failed';
  keysDone: number;
  keysTotal: number | null;
  /** The worker running (or that ran) the shard's job. */
  worker?: string;
}

export interface ProgressUpdate extends StepProgress {
  migrationId: string;
  stepId: string;
  at: string;
}

export const TERMINAL_MIGRATION_STATUSES: ReadonlySet<MigrationStatus> = new Set([
  'succeeded',
  'failed',
  'rejected',
  'aborted',
]);

export function findStep(migration: Migration, stepId: string): Step | undefined {
  return migration.steps.find((s) => s.id === stepId);
}
