// The source's side of the lag: master_repl_offset (and the backlog size, for the resync advice)
// from INFO replication on a plain connection of its own, polled about once a second.
import { parseInfo } from '../../probe/info.js';
import type { Endpoint } from '../../redis/endpoint.js';
import { RespConnection } from '../resp/connection.js';
import { replyText } from '../resp/reply.js';

const POLL_MS = 1000;

export interface SourceReplication {
  masterReplOffset: number;
  backlogBytes: number | null;
}

export class SourceMonitor {
  private conn: RespConnection | null = null;
  private opening: Promise<RespConnection> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  last: SourceReplication | null = null;
  lastAt = 0;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly onPoll: (r: SourceReplication) => void,
  ) {}

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      this.read().catch(() => undefined);
    }, POLL_MS);
    this.timer.unref();
    this.read().catch(() => undefined);
  }

  /** INFO replication read now. */
  async read(): Promise<SourceReplication> {
    const conn = await this.connection();
    let text: string;
    try {
      text = replyText(await conn.call('INFO', 'replication')) ?? '';
    } catch (err) {
      // A broken connection is reopened on the next read.
      if (this.conn === conn && conn.broken) this.conn = null;
      throw err;
    }
    const info = parseInfo(text)['replication'] ?? {};
    const offset = Number(info['master_repl_offset']);
    const backlog = Number(info['repl_backlog_size']);
    const r = {
      masterReplOffset: Number.isFinite(offset) ? offset : 0,
      backlogBytes: Number.isFinite(backlog) ? backlog : null,
    };
    this.last = r;
    this.lastAt = Date.now();
    this.onPoll(r);
    return r;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const conn = this.conn ?? (await this.opening?.catch(() => null));
    this.conn = null;
    await conn?.close().catch(() => conn.destroy());
  }

  private async connection(): Promise<RespConnection> {
    if (this.conn && !this.conn.broken) return this.conn;
    if (this.stopped) throw new Error('source monitor stopped');
    this.opening ??= RespConnection.open(this.endpoint, { db: 0, role: 'psync-monitor' });
    try {
      this.conn = await this.opening;
      if (this.stopped) {
        this.conn.destroy();
        throw new Error('source monitor stopped');
      }
      return this.conn;
    } finally {
      this.opening = null;
    }
  }
}
