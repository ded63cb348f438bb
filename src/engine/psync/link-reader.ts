// The bytes the source sends on the replication link, pulled one chunk at a time with
// back-pressure: while the consumer (RDB load, stream apply) is behind, the socket is paused, so
// the source's pace follows the target's. In spool mode every chunk goes to a file at the
// source's pace instead (its replica output buffer stays small while the target is slow) and the
// consumer reads the file behind the writer; unspool() hands the consumer back to the socket once
// it has read what the file holds.
import { createWriteStream, type WriteStream } from 'node:fs';
import { type FileHandle, open, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';

/** Queued bytes above which the socket is paused (the consumer is behind). */
const HIGH_WATER = 4 * 1024 * 1024;
const FILE_READ = 1024 * 1024;
/**
 * The source sends something at least every repl-ping-replica-period (10 s by default, newlines
 * before an RDB): a link silent this long while we wait is dead (repl-timeout's default).
 */
export const LINK_IDLE_TIMEOUT_MS = 60_000;

export class LinkClosedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinkClosedError';
  }
}

export class LinkReader {
  private queue: Buffer[] = [];
  private queued = 0;
  private waiter: (() => void) | null = null;
  private closed: Error | null = null;
  private spool: Spool | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly where: string,
    private readonly idleTimeoutMs = LINK_IDLE_TIMEOUT_MS,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.close(new LinkClosedError(`link to ${where} failed: ${err.message}`)));
    socket.on('close', () => this.close(new LinkClosedError(`link to ${where} closed`)));
  }

  /** Bytes received before this reader took over (the handshake's read-ahead), to be read first. */
  unshift(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.queue.unshift(bytes);
    this.queued += bytes.length;
  }

  /** The next chunk; rejects with LinkClosedError once the link is gone and everything was read. */
  async next(): Promise<Buffer> {
    for (;;) {
      if (this.spool) {
        const chunk = await this.spool.read();
        if (chunk) return chunk;
        if (this.spool.released && this.spool.drained) {
          await this.spool.dispose();
          this.spool = null;
          continue;
        }
      } else if (this.queue.length > 0) {
        const chunk = this.queue.shift()!;
        this.queued -= chunk.length;
        if (this.queued < HIGH_WATER && this.socket.isPaused()) this.socket.resume();
        return chunk;
      }
      if (this.closed && (!this.spool || this.spool.drained)) throw this.closed;
      if (this.socket.isPaused()) this.socket.resume();
      await this.wait();
    }
  }

  /** Until bytes arrive (or the link closes); a link silent for idleTimeoutMs is closed. */
  private async wait(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        timer = setTimeout(() => {
          this.socket.destroy();
          this.close(
            new LinkClosedError(
              `link to ${this.where} sent nothing for ${Math.round(this.idleTimeoutMs / 1000)} s`,
            ),
          );
        }, this.idleTimeoutMs);
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** From now on chunks go to `file` first (what is queued in memory too). */
  async startSpool(file: string): Promise<void> {
    const handle = await open(file, 'w+');
    const spool = new Spool(file, handle, createWriteStream(file, { fd: handle.fd, autoClose: false }), () =>
      this.wake(),
    );
    for (const chunk of this.queue) spool.append(chunk);
    this.queue = [];
    this.queued = 0;
    this.spool = spool;
    if (this.socket.isPaused()) this.socket.resume();
  }

  /** New chunks are kept in memory again; the consumer reads the file's rest first. */
  unspool(): void {
    this.spool?.release();
  }

  /** Bytes written to the spool file so far (0 without a spool). */
  get spooledBytes(): number {
    return this.spool?.written ?? 0;
  }

  write(bytes: Buffer | string): void {
    if (!this.closed) this.socket.write(bytes);
  }

  destroy(): void {
    this.socket.destroy();
    this.close(new LinkClosedError('link closed'));
    void this.spool?.dispose();
  }

  private onData(chunk: Buffer): void {
    if (this.spool && !this.spool.released) {
      this.spool.append(chunk);
      return;
    }
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.queued >= HIGH_WATER) this.socket.pause();
    this.wake();
  }

  private close(err: Error): void {
    this.closed ??= err;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}

/** The spool file: appended by the socket, read behind the writer by the consumer. */
class Spool {
  /** Bytes whose write completed (readable). */
  written = 0;
  private readPos = 0;
  private appended = 0;
  released = false;
  private disposed = false;

  constructor(
    private readonly file: string,
    private readonly handle: FileHandle,
    private readonly out: WriteStream,
    private readonly onWritten: () => void,
  ) {}

  append(chunk: Buffer): void {
    this.appended += chunk.length;
    this.out.write(chunk, () => {
      this.written += chunk.length;
      this.onWritten();
    });
  }

  /** Everything appended has been read. */
  get drained(): boolean {
    return this.readPos >= this.appended;
  }

  /** The next bytes of the file, or null when the reader is at the writer's position. */
  async read(): Promise<Buffer | null> {
    if (this.readPos >= this.written) return null;
    const n = Math.min(FILE_READ, this.written - this.readPos);
    const buf = Buffer.allocUnsafe(n);
    const { bytesRead } = await this.handle.read(buf, 0, n, this.readPos);
    this.readPos += bytesRead;
    return bytesRead === n ? buf : buf.subarray(0, bytesRead);
  }

  release(): void {
    this.released = true;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await new Promise<void>((resolve) => this.out.end(resolve));
    await this.handle.close().catch(() => undefined);
    await rm(this.file, { force: true });
  }
}
