// The final check's side of the record of writes after the repoint, shared by every strategy's
// post_verify: it stops the recording once the compare has read everything, explains the
// differing keys the apps wrote, and allows the key counts to move by as many keys as they wrote.

import type { VerifyOptions } from '../../engine/verify/types.js';
import type { StepContext } from '../../runbook/step-executor.js';
import { errorMessage } from '../../util/errors.js';
import type { AppWriteRecord } from './record.js';
import type { AppWriteWatches } from './watch.js';

export interface AppWrites {
  record: AppWriteRecord;
  watches: AppWriteWatches;
}

/** This process's record of app writes, or undefined when it runs steps without one. */
export type AppWritesProvider = () => AppWrites | undefined;

export interface AppWritesOutcome {
  /** Distinct keys written on the target since the repoint, as recorded. */
  recordedKeys: number;
  /** The record holds every write since the repoint, so it may explain differences. */
  complete: boolean;
  /** Why it cannot, when it cannot. */
  why: string | null;
}

export class FinalCheckAppWrites {
  private concluded: Promise<AppWritesOutcome> | undefined;

  constructor(
    private readonly ctx: Pick<StepContext, 'migration'>,
    private readonly get: AppWritesProvider | undefined,
  ) {}

  /** VerifyOptions.explain: asked after the compare read everything, so the record is stopped first. */
  readonly explain: NonNullable<VerifyOptions['explain']> = async (keys) => {
    const outcome = await this.conclude();
    const aw = this.get?.();
    if (!outcome.complete || !aw) return keys.map(() => false);
    return aw.record.contains(
      this.ctx.migration.id,
      keys.map((k) => k.key),
    );
  };

  /** Stops the recording (once) and says what the record can tell. */
  conclude(): Promise<AppWritesOutcome> {
    this.concluded ??= this.readOutcome();
    return this.concluded;
  }

  private async readOutcome(): Promise<AppWritesOutcome> {
    const aw = this.get?.();
    if (!aw)
      return { recordedKeys: 0, complete: false, why: 'this worker keeps no record of writes on the target' };
    const id = this.ctx.migration.id;
    try {
      await aw.watches.conclude(id);
      const meta = await aw.record.read(id);
      if (!meta)
        return {
          recordedKeys: 0,
          complete: false,
          why: 'no record of writes on the target was started at the repoint',
        };
      return { recordedKeys: meta.keys, complete: meta.incomplete === null, why: meta.incomplete };
    } catch (err) {
      return { recordedKeys: 0, complete: false, why: `the record could not be read: ${errorMessage(err)}` };
    }
  }
}

const plural = (n: number, one: string, many: string) =>
  `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/**
 * The final check's sentence about the apps' writes: how many differing keys they explain, or why
 * they could not be told apart (then the differences stand: a real difference is never hidden).
 */
export function describeAppWrites(
  outcome: AppWritesOutcome,
  explained: number,
  differences: boolean,
): string {
  if (outcome.complete) {
    return (
      `not counted as differences: ${plural(explained, 'key', 'keys')} written by apps after the repoint ` +
      `(${plural(outcome.recordedKeys, 'key', 'keys')} written on the target since the repoint)`
    );
  }
  if (!differences) return '';
  return (
    `writes by apps after the repoint cannot be told apart from differences (${outcome.why}), so every ` +
    'difference counts: compare the keys named by hand, or run `migration-buddy verify` once the apps are stopped'
  );
}
