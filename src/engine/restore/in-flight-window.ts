// The pipelined batches an entry writer has sent and not seen answered yet, bounded in count and
// bytes: when either bound is reached the writer waits for the oldest batch (back-pressure up to
// the RDB reader). Both writers (restore-writer.ts, by-type-writer.ts) keep their batches here.

const MAX_BATCHES_IN_FLIGHT = 8;
const MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;

export class InFlightWindow {
  private readonly batches: { done: Promise<void>; bytes: number }[] = [];
  private bytes = 0;

  /** `check` throws the writer's first fatal error, if any, after each batch settles. */
  constructor(private readonly check: () => void) {}

  /** Tracks a sent batch (`done` never rejects); a promise when the caller must wait. */
  push(done: Promise<void>, bytes: number): Promise<void> | undefined {
    this.batches.push({ done, bytes });
    this.bytes += bytes;
    if (this.batches.length >= MAX_BATCHES_IN_FLIGHT || this.bytes >= MAX_IN_FLIGHT_BYTES) {
      return this.settleOldest();
    }
    return undefined;
  }

  /** Waits for every batch in flight, throwing the writer's failure as soon as one settles with it. */
  async drain(): Promise<void> {
    while (this.batches.length > 0) await this.settleOldest();
  }

  /** Waits for what is in flight without raising. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.batches.map((b) => b.done));
  }

  private async settleOldest(): Promise<void> {
    const oldest = this.batches.shift()!;
    await oldest.done;
    this.bytes -= oldest.bytes;
    this.check();
  }
}
