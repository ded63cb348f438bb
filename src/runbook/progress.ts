import type { StepProgress } from './model.js';

/** How people see a source shard: the node scanned, with its shard id shortened. */
export function shardLabel(s: { shard: string; node: string }): string {
  return s.shard === 'standalone' ? s.node : `${s.node} (${s.shard.slice(0, 8)})`;
}

/**
 * Keeps the latest progress and passes it on at most once per interval (the last value always
 * gets through, on the next tick or on flush), so a chatty executor cannot flood watchers.
 */
export class ProgressThrottle {
  private latest: StepProgress | undefined;
  private lastSent = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly intervalMs: number,
    private readonly send: (p: StepProgress) => void | Promise<void>,
    private readonly now: () => number = Date.now,
  ) {}

  report(progress: StepProgress): void {
    if (this.closed) return;
    this.latest = progress;
    const wait = this.lastSent + this.intervalMs - this.now();
    if (wait <= 0) {
      this.emit();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.emit();
      }, wait);
      this.timer.unref?.();
    }
  }

  /** Sends what is pending now and stops; later reports are dropped. */
  async flush(send = true): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (send && this.latest) await this.send(this.latest);
    this.latest = undefined;
  }

  private emit(): void {
    if (!this.latest) return;
    const p = this.latest;
    this.latest = undefined;
    this.lastSent = this.now();
    void Promise.resolve(this.send(p)).catch(() => undefined);
  }
}
