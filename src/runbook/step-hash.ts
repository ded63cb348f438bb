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
 * What an approval is bound to: the step's identity and parameters. If any parameter changes, the
 * hash changes and earlier approvals no longer count.
 */
export function stepHash(step: Pick<PlannedStep, 'id' | 'kind' | 'params'>): string {
  return createHash('sha256')
    .update(canonicalJson({ id: step.id, kind: step.kind, params: step.params }))
    .digest('hex');
}
