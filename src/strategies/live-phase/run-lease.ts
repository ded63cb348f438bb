// The follower's hold on its run in the control Redis: the claim's lease, renewed every third of
// it. Each renewal also says whether another worker took the run over (fenced), the migration was
// aborted, or the control Redis lost it. Being out of touch for a whole lease counts as fenced:
// another worker may hold the run by then.

import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { withTimeout } from '../../util/timeout.js';
import type { FollowerChannel, FollowerRef } from './types.js';

export interface RunLeaseOptions {
  channel: Pick<FollowerChannel, 'heartbeat'>;
  ref: FollowerRef;
  /** The claim's fencing token. */
  epoch: number;
  /** Match the follower queue's lock duration. */
  leaseMs: number;
  /** What a renewal found; each may be called more than once. */
  on: { fenced: () => void; aborted: () => void; lost: () => void };
  logger: Logger;
}

/** How often the claim is renewed (and the loop looks again when it has nothing to do). */
export function renewEveryMs(leaseMs: number): number {
  return Math.max(50, Math.floor(leaseMs / 3));
}

export class RunLease {
  private timer: NodeJS.Timeout | undefined;
  private lastBeat = Date.now();
  private beating = false;

  constructor(private readonly options: RunLeaseOptions) {}

  start(): void {
    this.timer ??= setInterval(() => void this.heartbeat(), renewEveryMs(this.options.leaseMs));
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async heartbeat(): Promise<void> {
    const { leaseMs, on } = this.options;
    // Commands to a control Redis that is down wait for the reconnect: bound the renewal, so being
    // out of touch is noticed (and renewals do not pile up).
    if (this.beating) {
      if (Date.now() - this.lastBeat > leaseMs) on.fenced();
      return;
    }
    this.beating = true;
    try {
      const res = await withTimeout(
        this.options.channel.heartbeat(this.options.ref, this.options.epoch, leaseMs),
        leaseMs,
        'the follower lease renewal',
      );
      this.lastBeat = Date.now();
      if (res === 'lost') on.lost();
      else if (res === 'fenced') on.fenced();
      else if (res === 'aborted') on.aborted();
    } catch (err) {
      this.options.logger.warn({ err: errorMessage(err) }, 'follower lease renewal failed');
      if (Date.now() - this.lastBeat > leaseMs) on.fenced();
    } finally {
      this.beating = false;
    }
  }
}
