import type { DbRemap } from '../engine/db-mapping.js';
import type { ProbeResult } from '../probe/types.js';

export const STRATEGIES = ['replication', 'psync', 'dump-restore', 'migrate'] as const;
export type StrategyName = (typeof STRATEGIES)[number];

/** The kinds of runbook step a plan can contain; the orchestration runs one job per step. */
export const STEP_KINDS = [
  'preflight', // re-probe both sides, check the plan still holds
  'start_replication', // REPLICAOF source on the target (wipes the target)
  'wait_sync', // replication link up, offsets equal
  'bulk_copy', // DUMP/RESTORE (or MIGRATE) of every selected key
  'live_sync', // follow changes on the source until cutover
  'verify', // compare source and target
  'make_writable', // replica-read-only no
  'write_pause', // CLIENT PAUSE WRITE on the source, drain pending changes
  'repoint', // hook or a person moves the apps
  'drain_check', // no clients left on the source
  'promote', // REPLICAOF NO ONE, restore changed settings
  'resume_writes', // end the source write pause, kill stale source connections
  'post_verify', // final comparison and summary
  'hook', // a configured hook at a named point
] as const;
export type StepKind = (typeof STEP_KINDS)[number];

export interface PlannedStep {
  /** Stable within a plan, e.g. "3-verify". */
  id: string;
  kind: StepKind;
  title: string;
  /** One or two sentences for people: what the step does and why. */
  description: string;
  /** A second person must approve it before it runs. */
  needsApproval: boolean;
  /** Cannot be undone once it ran (wipes, promotes, pauses writes). */
  irreversible: boolean;
  /** Parameters the step runs with; an approval is bound to a hash of them. */
  params: Record<string, unknown>;
}

/** A blocker or a warning: a stable code for machines and a sentence for people. */
export interface Finding {
  code: string;
  message: string;
}

export interface StrategyAssessment {
  strategy: StrategyName;
  viable: boolean;
  /** Why it is ruled out (empty when viable), e.g. "REPLICAOF is not available on target: unknown command". */
  reasons: string[];
}

export type NonEmptyTargetPolicy = 'refuse' | 'replace' | 'flush';

export interface PlanOptions {
  strategy: 'auto' | StrategyName;
  onNonEmptyTarget: NonEmptyTargetPolicy;
  /** Databases to move; 'all' = every database that has keys. */
  dbs: 'all' | number[];
  /** The source URL named the database (`/3`): only it is copied (engine/db-mapping.ts). */
  dbsFromUrl?: boolean;
  /** Source db -> another target db, from the URLs' databases (engine/db-mapping.ts). */
  dbRemap?: DbRemap;
  /** SCAN MATCH pattern; only dump-restore and migrate can honour it. */
  match?: string;
  /** Force type-by-type copy instead of DUMP/RESTORE. */
  byType: boolean;
  /**
   * Copy hashes with per-field TTLs to a target without field TTLs as persistent fields
   * (--drop-field-ttls): a warning instead of a blocker (planner/field-ttls.ts).
   */
  dropFieldTtls?: boolean;
  /** Keys above this serialized size are copied in chunks. */
  bigKeyThresholdBytes: number;
  /**
   * A copy rate to estimate the copy time with (and so warn about short TTLs), instead of the
   * measured or default rate of the strategy (planner/copy-rate.ts).
   */
  estimatedKeysPerSecond?: number;
  /** Whether the source server can open a connection to the target (MIGRATE needs it); unknown = undefined. */
  sourceCanReachTarget?: boolean;
  /** Whether the target server can open a connection to the source (replication needs it); unknown = undefined. */
  targetCanReachSource?: boolean;
  /** Timeout of each CLIENT PAUSE on the source; the engine renews it until writes resume (default 60 s). */
  writePauseTimeoutMs?: number;
}

export interface Plan {
  source: ProbeResult['endpoint'] & { version: string };
  target: ProbeResult['endpoint'] & { version: string };
  /** null when a blocker stops every strategy. */
  strategy: StrategyName | null;
  /** The strategy the constraints allow, even when blockers stop it for now (null when none is possible). */
  candidate: StrategyName | null;
  /** Why the candidate was taken, for people (e.g. "target forbids REPLICAOF; source allows PSYNC: ..."). */
  because?: string;
  /** How keys are written for dump-restore/migrate: DUMP payloads, or native commands per type. */
  copyMode: 'dump' | 'by-type' | null;
  /** Why copyMode is 'by-type' (empty otherwise), e.g. "--by-type was asked". */
  copyModeReasons: string[];
  /** How changes made during the copy reach the target (dump-restore/migrate); null for replication or when blocked. */
  liveSync: 'notifications' | 'enable-notifications' | 'none' | null;
  assessments: StrategyAssessment[];
  blockers: Finding[];
  warnings: Finding[];
  steps: PlannedStep[];
  estimates: {
    keys: number;
    bytes: number;
    copySeconds: number;
    /** The rate the copy time was estimated at (absent in plans made before it was measured). */
    keysPerSecond?: number;
    /** Where that rate comes from, for people (planner/copy-rate.ts). */
    rateFrom?: string;
  };
  /** Which databases are copied into which, for people ("db 3 -> db 5 only (...)"). */
  databases?: string;
  options: PlanOptions;
}
