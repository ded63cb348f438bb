// A FIFO byte semaphore: reads of DUMP payloads wait until the bytes in flight (read but not yet
// acknowledged by the target) fall under the limit, so copier memory stays bounded whatever the
// number or size of keys. A request larger than the limit is granted alone.

export class ByteBudget {
  private used = 0;
  private readonly waiters: { bytes: number; resolve: () => void }[] = [];

  constructor(readonly limit: number) {}

  get inFlight(): number {
    return this.used;
  }

  /** Resolves with the bytes granted (capped at the limit); pass that number to release(). */
  async acquire(bytes: number): Promise<number> {
    const want = Math.max(1, Math.min(bytes, this.limit));
    if (this.waiters.length === 0 && this.used + want <= this.limit) {
      this.used += want;
      return want;
    }
    await new Promise<void>((resolve) => this.waiters.push({ bytes: want, resolve }));
    return want;
  }

  release(bytes: number): void {
    this.used -= bytes;
    while (this.waiters.length > 0) {
      const next = this.waiters[0]!;
      if (this.used > 0 && this.used + next.bytes > this.limit) break;
      this.waiters.shift();
      this.used += next.bytes;
      next.resolve();
    }
  }
}
