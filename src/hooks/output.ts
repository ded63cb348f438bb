// Bounded capture of a hook's output: the start and the end are kept (errors usually come last),
// the middle is dropped and counted, so a chatty hook cannot fill memory or the audit stream.
import { scrub } from '../util/secrets.js';

export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024;

export class BoundedOutput {
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private dropped = 0;

  constructor(limit = DEFAULT_MAX_OUTPUT_BYTES) {
    this.headLimit = Math.floor(limit / 4);
    this.tailLimit = limit - this.headLimit;
  }

  push(chunk: Buffer): void {
    let rest = chunk;
    if (this.headBytes < this.headLimit) {
      const take = Math.min(rest.length, this.headLimit - this.headBytes);
      this.head.push(rest.subarray(0, take));
      this.headBytes += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0) return;
    this.tail.push(rest);
    this.tailBytes += rest.length;
    while (this.tailBytes > this.tailLimit) {
      const first = this.tail[0]!;
      const excess = this.tailBytes - this.tailLimit;
      if (first.length <= excess) {
        this.tail.shift();
        this.tailBytes -= first.length;
        this.dropped += first.length;
      } else {
        this.tail[0] = first.subarray(excess);
        this.tailBytes -= excess;
        this.dropped += excess;
      }
    }
  }

  get truncated(): boolean {
    return this.dropped > 0;
  }

  /** The kept text, scrubbed of registered secrets. */
  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    const tail = Buffer.concat(this.tail).toString('utf8');
    const gap = this.dropped > 0 ? `\n[... ${this.dropped} bytes left out ...]\n` : '';
    return scrub(head + gap + tail);
  }
}

/** The last `max` characters of a text, for one-line error messages. */
export function lastChars(text: string, max: number): string {
  const t = text.trim();
  return t.length <= max ? t : `...${t.slice(t.length - max)}`;
}
