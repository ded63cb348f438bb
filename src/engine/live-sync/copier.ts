// What live sync needs from the copy engine, as a small interface: the real one wraps
// src/engine/copy's KeySetCopier (for the flusher and the keys the reconcile pass found different);
// tests of live sync's own logic can pass a simpler one.

import type { Endpoint } from '../../redis/endpoint.js';
import { UserError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { isFieldTtlRefusal, KeySetCopier } from '../copy/index.js';
import type { DbRemap } from '../db-mapping.js';

export interface KeySetResult {
  /** Keys that could not be copied (the copy engine logged why); they are not retried. */
  keysFailed: number;
  /** Keys deleted on the target because the source no longer has them. */
  keysDeleted?: number;
  /**
   * Set when a key must not be copied as it is (a hash with field TTLs, a target without them,
   * no --drop-field-ttls): what and why. Live sync stops on it instead of leaving the key stale.
   */
  refusal?: string;
}

export interface Copier {
  /**
   * Makes these keys of one db on the target equal to the source now: copied with REPLACE and
   * TTL, or deleted on the target when the source no longer has them (del, expired, evicted,
   * rename_from and move_from all converge this way).
   */
  copyKeySet(db: number, keys: Buffer[]): Promise<KeySetResult>;
  /** Releases connections; called when live sync stops. */
  close?(): Promise<void>;
}

export interface EngineCopierOptions {
  mode?: 'auto' | 'dump' | 'by-type';
  bigKeyThresholdBytes?: number;
  logger?: Logger;
  /** Source db -> another target db (engine/db-mapping.ts). */
  remap?: DbRemap;
  /** See CopyOptions.dropFieldTtls. */
  dropFieldTtls?: boolean;
}

/**
 * The copier backed by src/engine/copy. Each concurrent batch gets its own KeySetCopier (its own
 * pair of connections, kept open between batches); one that failed is closed and replaced by a
 * fresh one on a later batch.
 */
export function engineCopier(source: Endpoint, target: Endpoint, options: EngineCopierOptions = {}): Copier {
  const shared = {
    ...(options.mode ? { mode: options.mode } : {}),
    ...(options.bigKeyThresholdBytes ? { bigKeyThresholdBytes: options.bigKeyThresholdBytes } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.remap ? { remap: options.remap } : {}),
    ...(options.dropFieldTtls ? { dropFieldTtls: true } : {}),
  };
  const idle: KeySetCopier[] = [];
  // A batch still in flight when close() runs must not hand its lane back to the idle list
  // afterwards: nobody would close it, and its connections would keep the process alive.
  let closed = false;
  return {
    async copyKeySet(db, keys) {
      if (closed) throw new UserError('live sync stopped: no more keys are copied');
      const lane = idle.pop() ?? (await KeySetCopier.open(source, target, shared));
      try {
        const counters = await lane.copy(db, keys);
        if (closed) await lane.close();
        else idle.push(lane);
        const refused = counters.errors.find((e) => isFieldTtlRefusal(e.reason));
        return {
          keysFailed: counters.keysFailed,
          keysDeleted: counters.keysDeleted,
          ...(refused ? { refusal: `db ${refused.db} key "${refused.key}": ${refused.reason}` } : {}),
        };
      } catch (err) {
        await lane.close();
        throw err;
      }
    },
    async close() {
      closed = true;
      await Promise.all(idle.splice(0).map((lane) => lane.close()));
    },
  };
}
