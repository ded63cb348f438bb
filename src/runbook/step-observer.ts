// What a worker tells an observer (metrics) about each run of a step it claimed: the runbook
// reports facts, the observer decides what to count. Nothing here knows how they are exported.
import type { StepKind } from '../planner/types.js';
import type { RunResult } from './step-finish.js';

export interface StepRunReport {
  migrationId: string;
  stepId: string;
  kind: StepKind;
  strategy: string;
  /** How the run ended (succeeded, failed, retry, released...). */
  result: RunResult;
  /** From the claim to the recorded end of this run. */
  durationMs: number;
  /** The executor's result data when it returned one (keysCopied, bytesCopied, pausedMs...). */
  data?: Record<string, unknown>;
  /**
   * A gated step's wait from the approval request to the approval that opened it, on the run's
   * first claim only (a takeover or retry would count the same wait again).
   */
  approvalWaitMs?: number;
}

export interface StepRunObserver {
  stepRun(report: StepRunReport): void;
}
