// Records which keys change on the target from the repoint on, so the final check can set the
// apps' writes apart from real differences. It asks the target itself, with no setting to change:
// CLIENT TRACKING ... BCAST NOLOOP sends the name of every key any client modifies (Redis >= 6) to
// a subscribed connection. A dropped connection loses messages, so it marks the record incomplete
// rather than reconnecting.

import type { Redis } from 'ioredis';
import { keyHolders } from '../../engine/cluster/nodes.js';
import { connect } from '../../redis/connect.js';
import type { Endpoint } from '../../redis/endpoint.js';
import { errorMessage } from '../../util/errors.js';
import { sleep } from '../../util/sleep.js';
import type { AppWriteRecord } from './record.js';

const INVALIDATE_CHANNEL = '__redis__:invalidate';
const FLUSH_EVERY_MS = 200;
/** A watch nobody stops ends by itself (a migration abandoned after its repoint). */
const MAX_LIFETIME_MS = 6 * 3600_000;

export class TargetWriteWatch {
  private sub: Redis | undefined;
  private tracker: Redis | undefined;
  private pending: Buffer[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly startedMs = Date.now();
  /** Resolves once the watch stopped and its last keys are on the record. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    readonly migrationId: string,
    private readonly target: Endpoint,
    private readonly record: AppWriteRecord,
    private readonly onEnd: () => void = () => {},
  ) {
    this.done = new Promise((r) => {
      this.resolveDone = r;
    });
  }

  /** Subscribes and turns tracking on; throws (with the target's answer) when it cannot. */
  async start(): Promise<void> {
    try {
      this.sub = await connect(this.target, {
        role: 'app-writes-sub',
        maxReconnects: 0,
        maxRetriesPerRequest: 0,
      });
      this.tracker = await connect(this.target, {
        role: 'app-writes',
        maxReconnects: 0,
        maxRetriesPerRequest: 0,
      });
      const id = String(await this.sub.client('ID'));
      this.sub.on('messageBuffer', (channel: Buffer, keys: Buffer[] | null) => {
        if (channel.toString() !== INVALIDATE_CHANNEL) return;
        if (keys === null) {
          void this.incomplete('the target was flushed (FLUSHALL/FLUSHDB) after the repoint');
          return;
        }
        // The reply is a slice of a socket buffer: copy what is kept.
        for (const k of Array.isArray(keys) ? keys : [keys]) this.pending.push(Buffer.from(k));
      });
      await this.sub.subscribe(INVALIDATE_CHANNEL);
      await this.tracker.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', id, 'BCAST', 'NOLOOP');
    } catch (err) {
      this.close();
      throw new Error(`cannot record writes on the target (CLIENT TRACKING BCAST): ${errorMessage(err)}`);
    }
    const lost = (what: string) => () => {
      if (!this.stopped)
        void this.incomplete(`the ${what} connection to the target closed at ${new Date().toISOString()}`);
    };
    this.sub.on('close', lost('recording'));
    this.tracker.on('close', lost('tracking'));
    this.timer = setInterval(() => this.tick(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  private tick(): void {
    this.flushing = this.flushing.then(async () => {
      if (this.stopped) return;
      try {
        const { stopRequested } = await this.flush();
        // Not awaited: stop() waits for this very chain to finish.
        if (stopRequested) void this.stop();
        else if (Date.now() - this.startedMs > MAX_LIFETIME_MS) {
          void this.incomplete('recording stopped after 6 hours without a final check');
        }
      } catch {
        // The control Redis is away: keep the keys and try again at the next tick.
      }
    });
  }

  private async flush(): Promise<{ stopRequested: boolean }> {
    const keys = this.pending;
    this.pending = [];
    try {
      return await this.record.add(this.migrationId, keys);
    } catch (err) {
      this.pending = keys.concat(this.pending);
      throw err;
    }
  }

  private async incomplete(why: string): Promise<void> {
    await this.record.markIncomplete(this.migrationId, why).catch(() => undefined);
    void this.stop();
  }

  /**
   * Stops: a PING on the recording connection first, so every key changed before this call has
   * arrived; then the last keys go on the record and it is marked stopped.
   */
  async stop(): Promise<void> {
    if (this.stopped) return this.done;
    this.stopped = true;
    clearInterval(this.timer);
    try {
      await this.sub?.ping();
    } catch {
      // Closed already: marked incomplete by its close handler.
    }
    await this.flushing;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.flush();
        await this.record.markStopped(this.migrationId);
        break;
      } catch {
        await sleep(200);
      }
    }
    this.close();
    this.onEnd();
    this.resolveDone();
  }

  private close(): void {
    this.sub?.disconnect();
    this.tracker?.disconnect();
  }
}

/** What AppWriteWatches runs per migration: one target's watch, or one per primary of a cluster. */
interface Watch {
  readonly migrationId: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A cluster target: CLIENT TRACKING BCAST reports the keys changed on the node it runs on, so each
 * primary is watched, all into the one record (a watch that ends early marks it incomplete).
 */
class ClusterWriteWatch implements Watch {
  private readonly watches: TargetWriteWatch[];

  constructor(
    readonly migrationId: string,
    nodes: Endpoint[],
    record: AppWriteRecord,
    onEnd: () => void,
  ) {
    let ended = 0;
    this.watches = nodes.map(
      (node) =>
        new TargetWriteWatch(migrationId, node, record, () => {
          if (++ended === nodes.length) onEnd();
        }),
    );
  }

  async start(): Promise<void> {
    const started = await Promise.allSettled(this.watches.map((w) => w.start()));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.stop();
      throw failed.reason;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.watches.map((w) => w.stop()));
  }
}

/** The watches running in this process, one per migration. */
export class AppWriteWatches {
  private readonly running = new Map<string, Watch>();

  constructor(
    readonly record: AppWriteRecord,
    private readonly owner: string,
  ) {}

  /**
   * Makes sure writes on the target are being recorded for this migration (here, or by a live
   * watch elsewhere). Throws when the target cannot report them.
   */
  async ensure(migrationId: string, target: Endpoint): Promise<'started' | 'running'> {
    if (this.running.has(migrationId)) return 'running';
    if (!(await this.record.begin(migrationId, this.owner))) return 'running';
    const onEnd = () => this.running.delete(migrationId);
    let watch: Watch;
    try {
      const holders = await keyHolders(target);
      watch = holders.cluster
        ? new ClusterWriteWatch(
            migrationId,
            holders.nodes.map((n) => n.endpoint),
            this.record,
            onEnd,
          )
        : new TargetWriteWatch(migrationId, target, this.record, onEnd);
      await watch.start();
    } catch (err) {
      await this.record.markIncomplete(migrationId, errorMessage(err));
      throw err;
    }
    this.running.set(migrationId, watch);
    return 'started';
  }

  /** Stops this process's watch of the migration now, or waits (bounded) for the one elsewhere. */
  async conclude(migrationId: string, timeoutMs = 5000): Promise<void> {
    await this.record.requestStop(migrationId);
    const local = this.running.get(migrationId);
    if (local) return local.stop();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const meta = await this.record.read(migrationId);
      if (!meta || meta.stoppedMs !== null || meta.incomplete) return;
      if (Date.now() > deadline) {
        await this.record.markIncomplete(
          migrationId,
          `the watch of ${meta.owner} did not stop within ${timeoutMs / 1000} s when the final check asked`,
        );
        return;
      }
      await sleep(100);
    }
  }

  /** On shutdown: stop every watch (their records say they ended before a final check). */
  async closeAll(): Promise<void> {
    await Promise.all(
      [...this.running.values()].map(async (w) => {
        await this.record.markIncomplete(
          w.migrationId,
          `the worker recording writes (${this.owner}) shut down`,
        );
        await w.stop();
      }),
    );
  }
}
