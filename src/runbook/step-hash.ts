import { createHash } from 'node:crypto';
import type { PlannedStep } from '../planner/types.js';

/**
 * JSON with object keys sorted at every level and undefined members dropped, so equal values
 * always give equal text whatever order their keys were built in.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalize(value));
}

function canonicalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : canonicalize(v)));
  if (value && typeof value === 'object') {
    if (value instanceof Date) return value.toISOString();
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = canonicalize(v);
    }
    return out;
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/**
 * What an approval is bound to: the migration, the step's identity and its parameters. If any of
 * them differs, the hash differs, so an approval of one migration's step can never count for another
 * migration's identical step, and earlier approvals stop counting when a parameter changes.
 */
export function stepHash(migrationId: string, step: Pick<PlannedStep, 'id' | 'kind' | 'params'>): string {
  return createHash('sha256')
    .update(canonicalJson({ migration: migrationId, id: step.id, kind: step.kind, params: step.params }))
    .digest('hex');
}
