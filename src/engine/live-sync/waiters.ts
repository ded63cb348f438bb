// Waits on a condition of live sync's state (drain's barrier, stop's last changes): each is checked
// again whenever that state changes (notify()), and all are rejected at once when live sync fails or
// is aborted (rejectAll()).

interface Waiter {
  cond: () => boolean;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class Waiters {
  private readonly waiting = new Set<Waiter>();

  /**
   * Resolves once `cond` holds (at once when it already does); rejects with `timeoutError()` after
   * `timeoutMs` (no bound when undefined).
   */
  until(cond: () => boolean, timeoutMs: number | undefined, timeoutError: () => Error): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        cond,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.waiting.delete(waiter);
          reject(timeoutError());
        }, timeoutMs);
      }
      this.waiting.add(waiter);
    });
  }

  /** Resolves the waiters whose condition now holds. */
  notify(): void {
    for (const w of this.waiting) {
      if (w.cond()) {
        this.waiting.delete(w);
        w.resolve();
      }
    }
  }

  rejectAll(err: Error): void {
    for (const w of this.waiting) w.reject(err);
    this.waiting.clear();
  }
}
