// Who source and target are, for a resumable copy (copyKeys, migrateKeys): the identities kept in
// the checkpoint (src/engine/identity), compared on a resume, on every reconnect, now and then and
// before the copy calls itself complete. A source that changed stops the copy (ServerChangedError);
// a target that restarted or lost most of its keys makes it start over from the first key
// (TargetLost, then startOver), so a copy never reports keys the target no longer has.
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { IdentityGuard, identityChange, type ServerIdentity } from '../identity/index.js';
import { type CopyCheckpoint, zeroCounters } from './types.js';

export interface Identities {
  source: ServerIdentity;
  target: ServerIdentity;
}

/** Times a copy starts over because the target lost its keys before it gives up. */
export const MAX_TARGET_RESTARTS = 3;

/** The target restarted or lost keys: the copy starts over (the caller catches it). */
export class TargetLost extends Error {
  constructor(
    readonly reason: string,
    readonly now: ServerIdentity,
  ) {
    super(reason);
    this.name = 'TargetLost';
  }
}

type Endpoints = {
  source: Pick<Endpoint, 'name' | 'redactedUrl'>;
  target: Pick<Endpoint, 'name' | 'redactedUrl'>;
};

export class CopyIdentityCheck {
  constructor(
    private readonly endpoints: Endpoints,
    private readonly dbs: readonly number[],
    private readonly read: () => Promise<Identities>,
  ) {}

  /** Reads both now: the identities a fresh checkpoint starts with. */
  capture(): Promise<Identities> {
    return this.read();
  }

  /**
   * A resumed checkpoint: throws ServerChangedError when the source is not the one it was taken
   * from; returns why the target lost the copy's keys since (the caller starts over), or null.
   */
  async resume(cp: CopyCheckpoint): Promise<{ lost: string; now: ServerIdentity } | null> {
    const now = await this.read();
    const saved = cp.identity;
    if (!saved) {
      // A checkpoint from before identities were recorded: they count from here.
      cp.identity = now;
      return null;
    }
    const src = identityChange(saved.source, now.source);
    if (src) {
      this.guard(saved.source).fail(
        src,
        `since the checkpoint was saved (${cp.updatedAt})`,
        `nothing was copied in this run; the target keeps the ${cp.counters.keysCopied} keys copied before. ` +
          'Delete the checkpoint to copy this source from the start',
      );
    }
    const lost = this.targetChange(saved.target, now.target, 'since the checkpoint was saved');
    if (lost) return { lost, now: now.target };
    saved.target.keys = now.target.keys;
    return null;
  }

  /** Throws ServerChangedError (source changed) or TargetLost; else records the target's key count. */
  async check(cp: CopyCheckpoint, when: string): Promise<void> {
    const now = await this.read();
    const saved = cp.identity!;
    const src = identityChange(saved.source, now.source);
    if (src) {
      this.guard(saved.source).fail(
        src,
        when,
        `nothing more was copied; the target keeps the ${cp.counters.keysCopied} keys copied so far`,
      );
    }
    const lost = this.targetChange(saved.target, now.target, when);
    if (lost) throw new TargetLost(lost, now.target);
    // Kept in the checkpoint: a count that collapses from here means lost keys, even across runs.
    saved.target.keys = now.target.keys;
  }

  private guard(baseline: ServerIdentity): IdentityGuard {
    return new IdentityGuard({
      side: 'source',
      where: describeEndpoint(this.endpoints.source),
      baseline,
      dbs: this.dbs,
    });
  }

  private targetChange(base: ServerIdentity, now: ServerIdentity, when: string): string | null {
    const change = identityChange(base, now);
    return change ? `the target ${describeEndpoint(this.endpoints.target)} ${change.detail} ${when}` : null;
  }
}

/**
 * Resets the checkpoint's progress to the first key, recording why; returns false (and changes
 * nothing) once the copy already started over MAX_TARGET_RESTARTS times.
 */
export function startOver(cp: CopyCheckpoint, reason: string, target: ServerIdentity): boolean {
  const restarts = [...(cp.restarts ?? []), reason];
  if (restarts.length > MAX_TARGET_RESTARTS) return false;
  cp.restarts = restarts;
  for (const d of cp.dbs) {
    d.cursor = '0';
    d.done = false;
  }
  cp.functionsDone = false;
  cp.functions = null;
  cp.counters = zeroCounters();
  cp.errors = [];
  cp.errorsOmitted = 0;
  cp.complete = false;
  cp.identity = { source: cp.identity!.source, target };
  return true;
}

/** The sentence when the target keeps losing keys. */
export function tooManyRestarts(reason: string): string {
  return (
    `${reason}, and the copy already started over ${MAX_TARGET_RESTARTS} times for that. Find out why the ` +
    'target loses its keys (its log: restarts, evictions, FLUSHALL), then run the copy again'
  );
}
