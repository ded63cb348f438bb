// The way out: REPLICAOF NO ONE and every changed setting restored, so an aborted migration leaves
// the target either untouched (the sync never began loading) or a standalone primary with the data
// it had synced, never a half-configured replica still holding the source's password.
import type { Redis } from 'ioredis';
import { connect } from '../../redis/connect.js';
import type { Endpoint } from '../../redis/endpoint.js';
import type { Migration } from '../../runbook/model.js';
import { errorMessage } from '../../util/errors.js';
import { parseTargetState, replicatesFrom } from './info.js';
import { rememberedOriginals, startRecord } from './records.js';
import { type Originals, restoreSettings } from './settings.js';

export interface DetachResult {
  /** The target was replicating and REPLICAOF NO ONE was sent. */
  detached: boolean;
  restored: string[];
  failed: string[];
}

/** The runner aborts a step's signal with "step stopped: <why>": only 'abort' calls for cleanup. */
export function stoppedByAbort(signal: AbortSignal): boolean {
  if (!signal.aborted) return false;
  const reason = signal.reason as { message?: unknown } | undefined;
  return /\babort\b/.test(String(reason?.message ?? reason ?? ''));
}

/**
 * REPLICAOF NO ONE, but only when the target replicates from `replicaOf` (never cut a link the
 * migration did not make), then every original setting back.
 */
export async function detachAndRestore(
  target: Redis,
  originals: Originals,
  replicaOf: { host: string; port: number } | undefined,
): Promise<DetachResult> {
  const info = parseTargetState((await target.call('INFO')) as string);
  const detached = replicaOf !== undefined && replicatesFrom(info, replicaOf.host, replicaOf.port);
  if (detached) await target.call('REPLICAOF', 'NO', 'ONE');
  const { restored, failed } = await restoreSettings(target, originals);
  return { detached, restored, failed };
}

export function describeDetach(r: DetachResult): string {
  const what = r.detached
    ? 'the target was detached from the source (REPLICAOF NO ONE)'
    : 'the target is not replicating';
  const settings =
    r.restored.length > 0 ? `; restored ${r.restored.join(', ')}` : '; no setting needed restoring';
  const failed = r.failed.length > 0 ? `; COULD NOT RESTORE: ${r.failed.join('; ')}` : '';
  return `${what}${settings}${failed}`;
}

/**
 * For the runbook's abort path when no step is running to clean up (the abort came between two
 * steps, or the worker running one died): detach the target and restore its settings, unless it
 * was promoted already. Read the migration with checkpoints so a start that never finished counts.
 * Idempotent. Returns what it did, for the audit trail.
 */
export async function cleanupAfterAbort(
  migration: Pick<Migration, 'steps' | 'plan'>,
  endpoints: { target: Endpoint },
): Promise<string> {
  if (migration.plan.strategy !== 'replication') return 'not a replication migration: nothing to clean up';
  const start = migration.steps.find((s) => s.kind === 'start_replication');
  const promote = migration.steps.find((s) => s.kind === 'promote');
  const record = startRecord(migration);
  if (!start || !record) return 'replication never started: the target is untouched';
  if (promote?.status === 'succeeded') return 'the target was promoted already: nothing to clean up';
  let target: Redis | undefined;
  try {
    target = await connect(endpoints.target, { role: 'replication-cleanup' });
    return describeDetach(await detachAndRestore(target, rememberedOriginals(migration), record.replicaOf));
  } catch (err) {
    return `cleanup failed (${errorMessage(err)}): run REPLICAOF NO ONE on the target and check masterauth, masteruser, tls-replication and replica-read-only`;
  } finally {
    target?.disconnect();
  }
}
