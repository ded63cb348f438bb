// Plans and settings for runbook tests (also used by the integration tests).
import type { Plan, PlannedStep, StepKind } from '../../../src/planner/types.js';
import type { ApprovalSettings } from '../../../src/runbook/approval-policy.js';
import type { Migration, Step } from '../../../src/runbook/model.js';
import { runbookSteps } from '../../../src/runbook/service/create.js';

export function plannedStep(
  n: number,
  kind: StepKind,
  needsApproval: boolean,
  params: Record<string, unknown> = {},
): PlannedStep {
  return {
    id: `${n}-${kind.replace(/_/g, '-')}`,
    kind,
    title: `${kind} step`,
    description: `does ${kind}`,
    needsApproval,
    irreversible: needsApproval,
    params,
  };
}

export function testPlan(steps?: PlannedStep[]): Plan {
  return {
    source: { name: 'src', redactedUrl: 'redis://127.0.0.1:1', version: '7.0.15' },
    target: { name: 'dst', redactedUrl: 'redis://127.0.0.1:2', version: '7.0.15' },
    strategy: 'dump-restore',
    candidate: 'dump-restore',
    copyMode: 'dump',
    copyModeReasons: [],
    liveSync: 'notifications',
    assessments: [{ strategy: 'replication', viable: false, reasons: ['REPLICAOF is not available'] }],
    blockers: [],
    warnings: [],
    steps: steps ?? [
      plannedStep(1, 'preflight', false),
      plannedStep(2, 'bulk_copy', true, { dbs: [0], batch: 100 }),
      plannedStep(3, 'verify', false),
      plannedStep(4, 'promote', true),
    ],
    estimates: { keys: 10, bytes: 100, copySeconds: 1 },
    options: {
      strategy: 'auto',
      onNonEmptyTarget: 'refuse',
      dbs: 'all',
      byType: false,
      bigKeyThresholdBytes: 64 << 20,
      estimatedKeysPerSecond: 10_000,
    },
  };
}

export const SETTINGS: ApprovalSettings = {
  approvers: { users: ['UAPPROVER1', 'UAPPROVER2', 'UREQ'], groups: ['SDBA'] },
  expiresAfterMs: 3_600_000,
  quorum: {},
};

/** A migration document in memory (for the pure policy tests). */
export function memoryMigration(overrides: Partial<Migration> = {}, plan = testPlan()): Migration {
  const at = '2026-01-01T00:00:00.000Z';
  const id = overrides.id ?? 'mtest';
  const steps = runbookSteps(id, plan.steps, at, () => 1);
  return {
    id,
    version: 0,
    source: 'src',
    target: 'dst',
    options: {},
    plan,
    requester: 'UREQ',
    policy: SETTINGS,
    status: 'running',
    createdAt: at,
    updatedAt: at,
    startedAt: at,
    steps,
    meta: {},
    ...overrides,
  };
}

/** Puts step `index` up for approval, opened at `nowMs` for `ttlMs`. */
export function awaiting(m: Migration, index: number, nowMs: number, ttlMs = 3_600_000): Step {
  const step = m.steps[index]!;
  step.status = 'awaiting_approval';
  step.gate = 'approval';
  step.approvalRequestedAt = new Date(nowMs).toISOString();
  step.approvalExpiresAt = new Date(nowMs + ttlMs).toISOString();
  return step;
}
