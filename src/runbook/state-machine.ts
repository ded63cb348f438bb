// The step state machine as a plain table: which event moves a step from which status to which.
// Guards that need more than the status (quorum, identity, leases) live in the service and policy;
// this table is the last word on which moves exist at all.
import type { Migration, MigrationStatus, Step, StepStatus } from './model.js';

export const STEP_EVENTS = [
  'request_approval', // a gated step becomes current, or an expired request is renewed
  'request_confirmation', // a running step asks a person to confirm an outside action
  'approve', // quorum reached
  'confirm', // a person confirmed the outside action
  'reject',
  'expire',
  'claim', // a worker starts the step
  'takeover', // another worker claims a step whose holder went silent
  'release', // the holder lets go (shutdown, transient error awaiting retry)
  'succeed',
  'fail',
  'abort',
  'retry', // a person re-runs a failed step
] as const;
export type StepEvent = (typeof STEP_EVENTS)[number];

export const TRANSITIONS: Readonly<Record<StepEvent, Partial<Record<StepStatus, StepStatus>>>> = {
  request_approval: { pending: 'awaiting_approval', expired: 'awaiting_approval' },
  request_confirmation: { running: 'awaiting_approval' },
  approve: { awaiting_approval: 'approved' },
  confirm: { awaiting_approval: 'approved' },
  reject: { awaiting_approval: 'rejected' },
  expire: { awaiting_approval: 'expired' },
  claim: { pending: 'running', approved: 'running' },
  takeover: { running: 'running' },
  release: { running: 'running' },
  succeed: { running: 'succeeded' },
  fail: { running: 'failed' },
  abort: {
    pending: 'aborted',
    awaiting_approval: 'aborted',
    approved: 'aborted',
    expired: 'aborted',
    running: 'aborted',
  },
  retry: { failed: 'pending' },
};

/** The status after `event`, or null when the event is not allowed from `from`. */
export function nextStatus(from: StepStatus, event: StepEvent): StepStatus | null {
  return TRANSITIONS[event][from] ?? null;
}

export function canTransition(from: StepStatus, event: StepEvent): boolean {
  return nextStatus(from, event) !== null;
}

export const TERMINAL_STEP_STATUSES: ReadonlySet<StepStatus> = new Set([
  'succeeded',
  'failed',
  'rejected',
  'aborted',
]);

/** Terminal for this run of the step (failed can still be retried by a person). */
export function isTerminal(status: StepStatus): boolean {
  return TERMINAL_STEP_STATUSES.has(status);
}

/** The first step that has not succeeded: the one the migration is at. */
export function currentStep(steps: readonly Step[]): Step | undefined {
  return steps.find((s) => s.status !== 'succeeded');
}

/** A migration's status follows from its steps (and whether it was started or aborted). */
export function deriveMigrationStatus(m: Pick<Migration, 'steps' | 'abort' | 'startedAt'>): MigrationStatus {
  const steps = m.steps;
  if (m.abort) return steps.some((s) => s.status === 'running') ? 'aborting' : 'aborted';
  if (steps.some((s) => s.status === 'rejected')) return 'rejected';
  if (steps.some((s) => s.status === 'failed')) return 'failed';
  if (steps.length > 0 && steps.every((s) => s.status === 'succeeded')) return 'succeeded';
  if (!m.startedAt) return 'created';
  if (steps.some((s) => s.status === 'awaiting_approval')) return 'awaiting_approval';
  if (steps.some((s) => s.status === 'expired')) return 'expired';
  return 'running';
}
