// What the replication steps remember, in their checkpoints (written before they change anything)
// and results (read by later steps: promote and the abort cleanup restore what start and
// make_writable changed).

import type { ServerIdentity } from '../../engine/identity/index.js';
import type { Migration, Step } from '../../runbook/model.js';
import { mergeOriginals, type Originals } from './settings.js';

export interface StartCheckpoint {
  version: 1;
  /** Settings start changed on the target, with the values they had before. */
  originals: Originals;
  replicaOf: { host: string; port: number };
  /** INFO stats sync_full of the source before REPLICAOF (full syncs are counted from here). */
  syncFullBaseline: number | null;
  startedAt: string;
  /** The source before REPLICAOF (absent in older records): every later step checks against it. */
  sourceIdentity?: ServerIdentity;
}

export interface WritableCheckpoint {
  version: 1;
  originals: Originals;
}

export function asStartRecord(value: unknown): StartCheckpoint | undefined {
  const v = value as Partial<StartCheckpoint> | undefined;
  if (v?.version !== 1 || typeof v.originals !== 'object' || !v.replicaOf) return undefined;
  return v as StartCheckpoint;
}

export function asWritableRecord(value: unknown): WritableCheckpoint | undefined {
  const v = value as Partial<WritableCheckpoint> | undefined;
  if (v?.version !== 1 || typeof v.originals !== 'object') return undefined;
  return v as WritableCheckpoint;
}

function stepOf(m: Pick<Migration, 'steps'>, kind: Step['kind']): Step | undefined {
  return m.steps.find((s) => s.kind === kind);
}

/** The start step's record: its result once it succeeded, else its checkpoint (when read with them). */
export function startRecord(m: Pick<Migration, 'steps'>): StartCheckpoint | undefined {
  const step = stepOf(m, 'start_replication');
  if (!step) return undefined;
  return asStartRecord(step.result?.record) ?? asStartRecord(step.checkpoint);
}

/** Every setting the migration changed on the target, with its value before the migration. */
export function rememberedOriginals(m: Pick<Migration, 'steps'>): Originals {
  const writable = stepOf(m, 'make_writable');
  const w = asWritableRecord(writable?.result?.record) ?? asWritableRecord(writable?.checkpoint);
  return mergeOriginals(startRecord(m)?.originals, w?.originals);
}
