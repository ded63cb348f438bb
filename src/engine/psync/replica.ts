// PsyncReplica: the tool as a replica of the source, mirroring it onto the target. One session of
// the link is: handshake -> (full sync: RDB onto the target) -> the stream, command by command.
// A cut link is resumed with PSYNC <replid> <applied + 1>; when the source cannot continue from
// there (backlog too small, a new replid) it is a full sync again, onto emptied databases, with an
// event that says why and what backlog would have been enough.
import { describeEndpoint } from '../../redis/endpoint.js';
import { ExitCode, errorMessage, UserError } from '../../util/errors.js';
import type { NonEmptyTargetPolicy } from '../copy/types.js';
import { targetDbsOf } from '../db-mapping.js';
import { RespConnection } from '../resp/connection.js';
import { type PreparedTarget, prepareTarget } from '../restore/prepare-target.js';
import { CommandStream } from './command-stream.js';
import { type Handshake, replicaHandshake } from './handshake.js';
import { LinkClosedError, LinkReader } from './link-reader.js';
import { loadRdb } from './rdb-load.js';
import { SourceMonitor } from './source-monitor.js';
import { type AppliedPoint, StreamApplier } from './stream-applier.js';
import type { PsyncCheckpoint, PsyncEvent, PsyncLag, PsyncPhase, PsyncReplicaOptions } from './types.js';

const ACK_MS = 1000;
const CHECKPOINT_MS = 1000;
/** How long reconnecting may fail before the replica gives up. */
const RECONNECT_WINDOW_MS = 60_000;
const MB = 1024 * 1024;
/** Source offsets kept for the lag in seconds (one per poll, ~1/s). */
const MAX_POLLS = 600;

interface Waiter {
  offset: number;
  resolve: (reached: boolean) => void;
  timer: NodeJS.Timeout;
}

export class PsyncReplica {
  private current: PsyncPhase = 'connecting';
  private error: Error | null = null;
  private readonly failureCallbacks: ((err: Error) => void)[] = [];
  private replid: string | null = null;
  private appliedPoint: AppliedPoint | null = null;
  /** The target holds a complete RDB plus the stream up to appliedPoint. */
  private synced = false;
  /** Something of this source was written to the target (a full sync must empty it first). */
  private wrote = false;
  private dst: RespConnection | null = null;
  private link: LinkReader | null = null;
  private applier: StreamApplier | null = null;
  private readonly monitor: SourceMonitor;
  private loop: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  private shutdownDone: Promise<void> | null = null;
  private waiters: Waiter[] = [];
  private ackTimer: NodeJS.Timeout | null = null;
  private checkpointTimer: NodeJS.Timeout | null = null;
  private lastCheckpoint = '';
  private checkpointing = false;
  /** Recent polls of the source's offset, oldest first: how old the applied data is. */
  private polls: { offset: number; at: number }[] = [];
  private prepared: (PreparedTarget & { policy: NonEmptyTargetPolicy }) | null = null;
  private readonly rdb: {
    promise: Promise<{ keys: number; bytes: number }>;
    resolve: (r: { keys: number; bytes: number }) => void;
    reject: (e: Error) => void;
  };

  constructor(private readonly opts: PsyncReplicaOptions) {
    let resolve!: (r: { keys: number; bytes: number }) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<{ keys: number; bytes: number }>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined);
    this.rdb = { promise, resolve, reject };
    const from = opts.resumeFrom;
    if (from) {
      this.replid = from.replid;
      this.appliedPoint = { offset: from.offset, db: from.db ?? 0 };
      this.synced = true;
      this.wrote = true;
    }
    this.monitor = new SourceMonitor(opts.source, (r) => {
      this.polls.push({ offset: r.masterReplOffset, at: Date.now() });
      if (this.polls.length > MAX_POLLS) this.polls.shift();
    });
  }

  /** Resolves once the handshake is done (a full sync begun, or the stream continued). */
  async start(): Promise<void> {
    if (this.dst) throw new Error('PsyncReplica.start() called twice');
    const { target } = this.opts;
    try {
      this.dst = await RespConnection.open(target, { db: 0, role: 'psync-target' });
      this.monitor.start();
      // The non-empty-target decision comes before the source is asked for anything (no fork).
      if (!this.synced) this.prepared = await this.prepare();
      const session = await replicaHandshake(
        this.opts.source,
        this.resumePoint(),
        this.opts.listeningPort ?? 0,
      );
      const rest = await this.begin(session);
      this.loop = this.run(rest);
      this.checkpointTimer = setInterval(() => void this.emitCheckpoint(), CHECKPOINT_MS);
      this.checkpointTimer.unref();
    } catch (err) {
      const e = asError(err);
      this.error = e;
      this.current = 'failed';
      this.rdb.reject(e);
      await this.shutdown();
      throw e;
    }
  }

  rdbLoaded(): Promise<{ keys: number; bytes: number }> {
    return this.rdb.promise;
  }

  get phase(): PsyncPhase {
    return this.current;
  }

  /** Null until the target holds a complete RDB (and again during a full resync). */
  get checkpoint(): PsyncCheckpoint | null {
    if (!this.synced || !this.replid || !this.appliedPoint) return null;
    return { replid: this.replid, offset: this.appliedPoint.offset, db: this.appliedPoint.db };
  }

  lag(): PsyncLag {
    const last = this.monitor.last;
    const applied = this.appliedPoint?.offset ?? null;
    const sourceOffset = last?.masterReplOffset ?? null;
    const bytes =
      sourceOffset !== null && applied !== null && this.synced ? Math.max(0, sourceOffset - applied) : null;
    return { bytes, seconds: this.lagSeconds(applied, bytes), sourceOffset };
  }

  /**
   * 0 when caught up; else the time since the source was last at (or behind) the applied offset,
   * i.e. how old the newest write on the target is. Null before the RDB is loaded.
   */
  private lagSeconds(applied: number | null, bytes: number | null): number | null {
    if (applied === null || bytes === null) return null;
    if (bytes === 0) return 0;
    let since: number | null = null;
    for (const p of this.polls) {
      if (p.offset <= applied) since = p.at;
    }
    since ??= this.polls[0]?.at ?? null;
    return since === null ? null : (Date.now() - since) / 1000;
  }

  /** True once the applied offset reaches `offset` (false after the timeout, a stop or a failure). */
  waitForOffset(offset: number, timeoutMs: number): Promise<boolean> {
    if (this.synced && (this.appliedPoint?.offset ?? -1) >= offset) return Promise.resolve(true);
    if (this.current === 'stopped' || this.current === 'failed') return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        offset,
        resolve,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(false);
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** The source's master_repl_offset, read now. */
  async sourceOffset(): Promise<number> {
    return (await this.monitor.read()).masterReplOffset;
  }

  get failure(): Error | null {
    return this.error;
  }

  onFailure(cb: (err: Error) => void): void {
    this.failureCallbacks.push(cb);
    if (this.error) cb(this.error);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.current !== 'failed') this.current = 'stopped';
      this.link?.destroy();
      await this.loop?.catch(() => undefined);
      await this.shutdown();
    })();
    return this.stopping;
  }

  private resumePoint(): { replid: string; offset: number } | null {
    if (!this.synced || !this.replid || !this.appliedPoint) return null;
    return { replid: this.replid, offset: this.appliedPoint.offset };
  }

  /** After a handshake: the full sync's preparation or the continue; the bytes read after it. */
  private async begin(session: Handshake): Promise<{ link: LinkReader; full: boolean; rest: Buffer }> {
    const link = new LinkReader(session.socket, `source ${describeEndpoint(this.opts.source)}`);
    link.unshift(session.rest);
    this.link = link;
    this.startAcks(link);
    const { answer } = session;
    if (answer.kind === 'continue') {
      if (answer.replid) this.replid = answer.replid;
      this.current = 'stream';
      this.emit({ kind: 'continued', replid: this.replid!, offset: this.appliedPoint!.offset });
      this.rdb.resolve({ keys: 0, bytes: 0 });
      return { link, full: false, rest: Buffer.alloc(0) };
    }
    const asked = this.resumePoint();
    let reason = 'first sync: no checkpoint to continue from';
    if (asked) {
      reason =
        answer.replid === asked.replid
          ? `the source cannot continue from offset ${asked.offset} (its backlog no longer holds it)`
          : `the source has a new replication history (replid ${answer.replid}, was ${asked.replid})`;
      const lagBytes = answer.replid === asked.replid ? answer.offset - asked.offset : null;
      const backlogBytes = (await this.monitor.read().catch(() => null))?.backlogBytes ?? null;
      this.emit({
        kind: 'resync-needed',
        reason,
        backlogBytes,
        suggestedBacklogBytes:
          lagBytes === null ? null : Math.max(2 * (backlogBytes ?? 0), Math.ceil((2 * lagBytes) / MB) * MB),
      });
    } else if (this.wrote) reason = 'the link was cut during the full sync: it starts again';
    this.synced = false;
    this.replid = answer.replid;
    this.appliedPoint = { offset: answer.offset, db: 0 };
    this.current = 'rdb';
    this.emit({ kind: 'full-sync-started', replid: answer.replid, offset: answer.offset, reason });
    return { link, full: true, rest: Buffer.alloc(0) };
  }

  /** The sessions, one after the other, until stopped or failed. */
  private async run(first: { link: LinkReader; full: boolean }): Promise<void> {
    let session = first;
    for (;;) {
      try {
        let rest: Buffer = Buffer.alloc(0);
        if (session.full) rest = await this.fullSync(session.link);
        await this.stream(session.link, rest);
      } catch (err) {
        if (this.stopping || this.error) return;
        const applyError = this.applier?.error;
        if (applyError) {
          await this.fail(applyError);
          return;
        }
        if (!isLinkError(err)) {
          await this.fail(asError(err));
          return;
        }
        this.emit({ kind: 'disconnected', error: errorMessage(err) });
        this.opts.logger.warn({ err: errorMessage(err) }, 'psync: link to the source lost, reconnecting');
        try {
          session = await this.reconnect();
        } catch (e) {
          if (!this.stopping) await this.fail(asError(e));
          return;
        }
      }
    }
  }

  private async reconnect(): Promise<{ link: LinkReader; full: boolean }> {
    this.stopAcks();
    this.link?.destroy();
    this.link = null;
    if (this.applier) {
      await this.applier.abandon();
      this.appliedPoint = this.applier.applied;
      this.applier = null;
    }
    const started = Date.now();
    let delay = 100;
    for (;;) {
      if (this.stopping) throw new Error('stopped');
      try {
        const session = await replicaHandshake(
          this.opts.source,
          this.resumePoint(),
          this.opts.listeningPort ?? 0,
        );
        return await this.begin(session);
      } catch (err) {
        if (Date.now() - started > RECONNECT_WINDOW_MS) {
          throw new UserError(
            `the link to the source ${describeEndpoint(this.opts.source)} could not be reopened for ` +
              `${RECONNECT_WINDOW_MS / 1000} s: ${errorMessage(err)}`,
            ExitCode.problem,
          );
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 2000);
      }
    }
  }

  /**
   * The target made ready for a full sync: the caller's policy the first time, emptied mapped
   * databases (and libraries) after a partial apply.
   */
  private async prepare(): Promise<PreparedTarget & { policy: NonEmptyTargetPolicy }> {
    const { mapping } = this.opts;
    const policy: NonEmptyTargetPolicy = this.wrote ? 'flush' : (this.opts.onNonEmptyTarget ?? 'refuse');
    return { ...(await prepareTarget(this.dst!, policy, targetDbsOf(mapping, mapping.dbs))), policy };
  }

  /** The RDB onto the target; returns the bytes after it (the stream's start). */
  private async fullSync(link: LinkReader): Promise<Buffer> {
    const prepared = this.prepared ?? (await this.prepare());
    this.prepared = null;
    this.wrote = true;
    const loaded = await loadRdb(link, this.dst!, {
      mapping: this.opts.mapping,
      policy: prepared.policy,
      functionsSupported: prepared.libraries !== null,
      spoolDir: this.opts.spoolDir ?? null,
      ...(this.opts.maxValueBytes !== undefined ? { maxValueBytes: this.opts.maxValueBytes } : {}),
      onProgress: (bytes, totalBytes, keys) => this.emit({ kind: 'rdb-progress', bytes, totalBytes, keys }),
    });
    this.appliedPoint = { offset: this.appliedPoint!.offset, db: loaded.streamDb };
    this.synced = true;
    const { keys, bytes, functions, ms } = loaded;
    this.emit({ kind: 'rdb-loaded', keys, bytes, functions, ms });
    this.opts.logger.info(
      { keys, expired: loaded.expired, skipped: loaded.skipped, bytes, ms },
      'psync: RDB loaded onto the target',
    );
    this.rdb.resolve({ keys, bytes });
    this.sendAck();
    return loaded.rest;
  }

  private async stream(link: LinkReader, first: Buffer): Promise<void> {
    this.current = 'stream';
    const applier = new StreamApplier(
      this.dst!,
      this.opts.mapping,
      this.appliedPoint!,
      (offset) => this.sendAck(offset),
      (point) => this.applied(point),
      // Wakes the loop, which may be waiting for the source's next bytes.
      () => this.link?.destroy(),
    );
    this.applier = applier;
    // A continued stream repeats no SELECT; after a full sync the source sends one first anyway.
    applier.begin();
    const commands = new CommandStream(this.appliedPoint!.offset);
    let chunk = first;
    for (;;) {
      if (chunk.length > 0) await applier.apply(commands.feed(chunk));
      chunk = await link.next();
    }
  }

  private applied(point: AppliedPoint): void {
    this.appliedPoint = point;
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((w) => {
      if (point.offset < w.offset) return true;
      clearTimeout(w.timer);
      w.resolve(true);
      return false;
    });
  }

  private startAcks(link: LinkReader): void {
    this.stopAcks();
    // Besides keeping the link alive, the first ACK after a diskless transfer starts the stream.
    this.ackTimer = setInterval(() => this.sendAck(), ACK_MS);
    this.ackTimer.unref();
    void link;
  }

  private stopAcks(): void {
    if (this.ackTimer) clearInterval(this.ackTimer);
    this.ackTimer = null;
  }

  private sendAck(offset = this.appliedPoint?.offset ?? 0): void {
    const text = String(offset);
    this.link?.write(`*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$${text.length}\r\n${text}\r\n`);
  }

  private async emitCheckpoint(): Promise<void> {
    const cb = this.opts.onCheckpoint;
    const c = this.checkpoint;
    if (!cb || !c || this.checkpointing) return;
    const key = `${c.replid}:${c.offset}:${c.db}`;
    if (key === this.lastCheckpoint) return;
    this.checkpointing = true;
    try {
      await cb(c);
      this.lastCheckpoint = key;
    } catch (err) {
      this.opts.logger.warn({ err: errorMessage(err) }, 'psync: storing the checkpoint failed');
    } finally {
      this.checkpointing = false;
    }
  }

  private emit(e: PsyncEvent): void {
    try {
      this.opts.onEvent?.(e);
    } catch (err) {
      this.opts.logger.warn({ err: errorMessage(err) }, 'psync: an event listener threw');
    }
  }

  private async fail(err: Error): Promise<void> {
    if (this.error) return;
    this.error = err;
    this.current = 'failed';
    this.rdb.reject(err);
    this.opts.logger.error({ err: errorMessage(err) }, 'psync: stopped');
    for (const cb of this.failureCallbacks) {
      try {
        cb(err);
      } catch {
        // A listener's problem is not the replica's.
      }
    }
    this.link?.destroy();
    await this.shutdown();
  }

  private shutdown(): Promise<void> {
    this.shutdownDone ??= (async () => {
      this.stopAcks();
      if (this.checkpointTimer) clearInterval(this.checkpointTimer);
      this.checkpointTimer = null;
      this.link?.destroy();
      this.link = null;
      if (this.applier) {
        await this.applier.abandon();
        this.appliedPoint = this.applier.applied;
      }
      for (const w of this.waiters) {
        clearTimeout(w.timer);
        w.resolve(false);
      }
      this.waiters = [];
      this.checkpointing = false;
      await this.emitCheckpoint();
      await this.monitor.stop();
      const dst = this.dst;
      if (dst) await dst.close().catch(() => dst.destroy());
      this.rdb.reject(new Error('the replica stopped before the RDB was loaded'));
    })();
    return this.shutdownDone;
  }
}

/** Errors of the link to the source (a resume can fix them), as opposed to the target's or ours. */
function isLinkError(err: unknown): boolean {
  return err instanceof LinkClosedError;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
