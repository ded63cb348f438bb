// A wait that an event cuts short: a loop that polls (a goal, a status) waits up to its interval,
// and goes on at once when a nudge (pub/sub, a callback) says there is something to look at. A nudge
// that arrives while the loop is busy is kept, so the next wait returns at once rather than miss it.

export class Wakeup {
  private woken = false;
  private endWait: (() => void) | undefined;

  /** Ends the current wait, or the next one when none is running. */
  wake(): void {
    this.woken = true;
    this.endWait?.();
  }

  /** Waits up to `ms`; less when woken or when `signal` aborts (without an error). */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.woken || signal?.aborted) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.endWait = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.endWait = done;
    });
  }
}
