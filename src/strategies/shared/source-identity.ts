// The source's identity as the migration recorded it (src/engine/identity): the bulk copy keeps the
// one it started with in its result, so every later step, and a follower started on another
// worker or in a new run, checks the source against the original rather than against itself.

import { asIdentity, type ServerIdentity } from '../../engine/identity/index.js';
import type { Migration } from '../../runbook/model.js';

export function migrationSourceIdentity(m: Pick<Migration, 'steps'>): ServerIdentity | undefined {
  for (const step of m.steps) {
    if (step.kind !== 'bulk_copy') continue;
    const recorded = step.result?.identity as { source?: unknown } | undefined;
    const identity = asIdentity(recorded?.source);
    if (identity) return identity;
  }
  return undefined;
}
