// The lease a worker holds on a running step, renewed every heartbeat. Its answers are how the
// worker learns that it lost the step to another worker (fenced), that the migration was
// aborted, or that the control Redis no longer has the migration (lost).
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { StepRef } from './model.js';
import type { MigrationStore } from './store.js';

export type LeaseLoss = 'fenced' | 'abort' | 'lost';

export interface LeaseOptions {
  store: MigrationStore;
  ref: StepRef;
  /** The fencing epoch of this worker's claim. */
  epoch: number;
  leaseMs: number;
  heartbeatMs: number;
  logger: Logger;
}

/** Renews the lease until the returned function is called; `onLoss` may be told more than once. */
export function keepLease(options: LeaseOptions, onLoss: (loss: LeaseLoss) => void): () => void {
  const { store, ref, epoch, leaseMs, logger } = options;
  let lastBeat = Date.now();
  let beating = false;
  const heartbeat = setInterval(() => {
    // A renewal queued on a control Redis that is down waits for the reconnect: one at a time,
    // and being out of touch for a whole lease is noticed without its answer.
    if (beating) {
      if (Date.now() - lastBeat > leaseMs) onLoss('fenced');
      return;
    }
    beating = true;
    store
      .heartbeat(ref.migrationId, ref.stepId, epoch, leaseMs)
      .then(
        (res) => {
          lastBeat = Date.now();
          if (res === 'lost') onLoss('lost');
          else if (res === 'fenced') onLoss('fenced');
          else if (res === 'aborted') onLoss('abort');
        },
        (err) => {
          logger.warn({ err: errorMessage(err) }, 'lease renewal failed');
          // Out of touch for a whole lease: assume another worker may hold the step by now.
          if (Date.now() - lastBeat > leaseMs) onLoss('fenced');
        },
      )
      .finally(() => {
        beating = false;
      });
  }, options.heartbeatMs);
  return () => clearInterval(heartbeat);
}
