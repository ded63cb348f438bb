// The runbook's public surface: what the CLI, the Slack adapter and the jobs layer use.
//
// For an adapter (Slack): create/start/get/list, approve/reject/confirm/abort/requestApproval/
// retryStep on MigrationService (refusals come back as values with a sentence for the person),
// subscribeEvents(handler, { group }) to render every migration's events from any number of
// processes, tailEvents for one migration, subscribeProgress/progress for status cards.
// Creating a migration goes through src/usecases/plan-migration.ts (probe, plan, hooks, who may
// approve, server locks), which calls MigrationService.create.
export {
  type ApprovalPolicy,
  type ApprovalSettings,
  checkPlanPolicy,
  DEFAULT_APPROVAL_EXPIRY_MS,
  type Identity,
  policyOf,
  type Refusal,
  type RefusalCode,
} from './approval-policy.js';
export {
  AuditLog,
  type EventHandler,
  formatEvent,
  type SubscribeOptions,
  type Subscription,
} from './audit.js';
export { describeState, gateRule, policySummary } from './describe.js';
export {
  classifyError,
  FencedError,
  StepAbortedError,
  TransientStepError,
  UnrecoverableStepError,
} from './errors.js';
export { type AuditEvent, type AuditEventType, EVENT_TYPES, SYSTEM_ACTOR } from './events.js';
export {
  describeLockUnit,
  LockHeldError,
  type LockHolder,
  lockUnits,
  parseLockUnit,
  type ServerAddress,
  serverKey,
} from './locks.js';
export * from './model.js';
export {
  type Accepted,
  type ActionResult,
  type ApproverDirectory,
  type CreateInput,
  MigrationService,
  type ServiceOptions,
  type StepScheduler,
} from './service.js';
export { approvalSettingsFromConfig } from './settings.js';
export {
  deriveMigrationStatus,
  nextStatus,
  STEP_EVENTS,
  type StepEvent,
  TRANSITIONS,
} from './state-machine.js';
export {
  defaultAbortState,
  ExecutorRegistry,
  type StepContext,
  type StepExecutor,
  type StepOutcome,
} from './step-executor.js';
export { canonicalJson, stepHash } from './step-hash.js';
export { type RunHooks, type RunResult, StepRunner } from './step-runner.js';
export { MigrationStore } from './store.js';
