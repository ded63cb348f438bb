// The follower's write pause on the source, held as a lease: CLIENT PAUSE <timeout> WRITE, renewed
// every third of its timeout so it lasts as long as its holder lives and no longer (a dead holder
// stops renewing; the pause then ends by itself). It measures the pause on the source's own clock
// (TIME) and notices when it ran out before a renewal, or while no follower held it: writes may
// have reached the source then, which the follower must make up for (a drain, a reconcile).
//
// Carved out of Follower the way BullMQ carved LockManager out of Worker: the follower decides
// when to pause and when to lift; this keeps the pause alive in between and says what happened.

import type { Redis } from 'ioredis';
import {
  type PausedNode,
  pauseEveryNode,
  pauseWrites,
  resumeEveryNode,
  resumeWrites,
} from '../../engine/cutover/index.js';
import { connect } from '../../redis/connect.js';
import type { Endpoint } from '../../redis/endpoint.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import type { FollowerSpec } from './spec.js';
import type { FollowerStatus } from './types.js';

export interface PauseLeaseOptions {
  /**
   * The holder's connection to the source. Renewals and UNPAUSE share it, so a renewal sent before
   * the UNPAUSE is executed before it and can never pause the source again after it.
   */
  connection: Redis;
  /**
   * Every primary of a source cluster (`connection` first): each is paused, renewed and lifted
   * the same way; taking the pause is all or nothing (engine/cutover/pause-every.ts).
   */
  nodes?: PausedNode[];
  /** The source, for a fresh connection when UNPAUSE fails on `connection`. */
  source: Endpoint;
  /** client-pause: CLIENT PAUSE WRITE, renewed; manual: a person stopped the apps' writes. */
  pause: FollowerSpec['pause'];
  /** Something the holder should report: the pause lapsed, or could not be lifted. */
  warn: (message: string) => void;
  logger: Logger;
}

/** The pause's fields of the follower's status. */
export type PauseFields = Pick<
  FollowerStatus,
  'paused' | 'pauseStartedMs' | 'pauseStartedAt' | 'pauseUntilMs' | 'pauseTimeoutMs'
>;

/** What the last holder of the pause published (a takeover goes on from it). */
export type PreviousPause = Pick<FollowerStatus, 'pauseStartedMs' | 'pauseUntilMs'>;

/**
 * Renewals sent whose replies have not come back yet, at most: a slow reply (a loaded machine, a
 * busy source) must not hold the next renewal back, or the pause runs out meanwhile; a connection
 * that is down must not pile them up either.
 */
const MAX_RENEWALS_IN_FLIGHT = 3;

export class PauseLease {
  private held = false;
  private startedMs: number | undefined;
  private untilMs: number | undefined;
  private timeoutMs: number | undefined;
  private lapsedOnce = false;
  private timer: NodeJS.Timeout | undefined;
  private renewalsInFlight = 0;
  /** Cleared (synchronously) before UNPAUSE: a renewal in flight must not pause again after it. */
  private wanted = false;
  /** Renewals are over for good (fenced, handed over): the pause is left to its next holder. */
  private released = false;

  constructor(private readonly options: PauseLeaseOptions) {}

  /** Writes are paused (by this lease, by a person, or by the last holder until this one lifts it). */
  get paused(): boolean {
    return this.held;
  }

  /** The pause ran out before it was renewed, or lapsed while no follower held it, at least once. */
  get lapsed(): boolean {
    return this.lapsedOnce;
  }

  /** Start of the current (or last) pause, source clock. */
  get startedAtMs(): number | undefined {
    return this.startedMs;
  }

  /** The pause's fields for the follower's status (as the follower has always published them). */
  fields(): PauseFields {
    const out: PauseFields = { paused: this.held };
    if (this.startedMs !== undefined) {
      out.pauseStartedMs = this.startedMs;
      out.pauseStartedAt = new Date(this.startedMs).toISOString();
    }
    if (this.untilMs !== undefined) out.pauseUntilMs = this.untilMs;
    if (this.timeoutMs !== undefined) out.pauseTimeoutMs = this.timeoutMs;
    return out;
  }

  /**
   * Pauses writes and renews the pause until lift() or release(). `keepStartMs`: a pause taken
   * over is measured from when its first holder started it.
   */
  async take(keepStartMs?: number): Promise<void> {
    const { pause } = this.options;
    if (pause.method === 'manual') {
      // A person stopped the apps' writes (the step asked for it): nothing to send.
      this.held = true;
      this.startedMs = keepStartMs ?? Date.now();
      return;
    }
    this.wanted = true;
    let t0: number;
    if (this.others.length > 0) {
      try {
        t0 = await this.pauseNow(true);
      } catch (err) {
        this.wanted = false;
        throw err;
      }
    } else t0 = await this.pauseNow(true);
    this.held = true;
    this.startedMs = keepStartMs ?? t0;
    this.untilMs = t0 + pause.timeoutMs;
    this.timeoutMs = pause.timeoutMs;
    this.startRenewing();
  }

  /**
   * After a takeover: the pause was on when the last holder stopped. Says whether it lapsed
   * meanwhile (nobody renewed it past its end), then pauses again, measured from its first start.
   */
  async retake(previous: PreviousPause): Promise<void> {
    if (this.options.pause.method === 'client-pause') {
      const now = await this.sourceNowMs();
      if (previous.pauseUntilMs !== undefined && now > previous.pauseUntilMs) {
        this.lapsedOnce = true;
        this.options.warn(
          `the write pause lapsed for about ${now - previous.pauseUntilMs} ms while no follower renewed it; ` +
            'writes made on the source then are followed only if live sync can reconcile',
        );
      }
    }
    await this.take(previous.pauseStartedMs);
  }

  /** The last holder's pause may still be in force: hold it without renewing, so lift() ends it. */
  adopt(previous: PreviousPause): void {
    this.held = true;
    if (previous.pauseStartedMs !== undefined) this.startedMs = previous.pauseStartedMs;
  }

  /**
   * Ends the pause (CLIENT UNPAUSE; on a fresh connection if ours is broken) and returns how long
   * it lasted on the source's clock; 0 when nothing was paused. Never throws: a pause it cannot
   * lift is reported through `warn` and ends by itself within its timeout.
   */
  async lift(): Promise<number> {
    this.wanted = false;
    this.stopRenewing();
    const started = this.startedMs;
    if (!this.held) return 0;
    let endMs = Date.now();
    if (this.options.pause.method === 'client-pause') {
      if (this.others.length > 0) {
        // Each node is told, whatever the others answer; one that cannot be reached lifts its
        // pause by itself within the timeout.
        const every = await resumeEveryNode({
          startedAt: started ?? Date.now(),
          nodes: this.allNodes.map((n) => ({
            ...n,
            pause: { startedAt: 0, startedMono: performance.now(), timeoutMs: this.options.pause.timeoutMs },
          })),
        });
        for (const f of every.failed) {
          this.options.warn(
            `could not resume writes on source node ${f.address} (${f.reason}); its pause ends by itself within ` +
              `${Math.ceil(this.options.pause.timeoutMs / 1000)} s`,
          );
        }
        endMs = await this.sourceNowMs().catch(() => Date.now());
        this.held = false;
        this.untilMs = undefined;
        return started === undefined ? 0 : Math.max(0, endMs - started);
      }
      try {
        await resumeWrites(this.options.connection);
        endMs = await this.sourceNowMs();
      } catch (err) {
        this.options.logger.warn(
          { err: errorMessage(err) },
          'CLIENT UNPAUSE failed; retrying on a new connection',
        );
        endMs = (await this.unpauseOnFreshConnection()) ?? endMs;
      }
    }
    this.held = false;
    this.untilMs = undefined;
    return started === undefined ? 0 : Math.max(0, endMs - started);
  }

  /** Stops renewing for good and leaves the pause as it is: its next holder renews or lifts it. */
  release(): void {
    this.released = true;
    this.stopRenewing();
  }

  private async unpauseOnFreshConnection(): Promise<number | undefined> {
    let fresh: Redis | undefined;
    try {
      fresh = await connect(this.options.source, { role: 'live-phase-unpause', maxReconnects: 2 });
      await resumeWrites(fresh);
      return Number((await fresh.time())[0]) * 1000;
    } catch (again) {
      this.options.warn(
        `could not resume writes on the source (${errorMessage(again)}); the pause ends by itself within ` +
          `${Math.ceil(this.options.pause.timeoutMs / 1000)} s`,
      );
      return undefined;
    } finally {
      fresh?.disconnect();
    }
  }

  private startRenewing(): void {
    if (this.timer) return;
    const every = Math.max(50, Math.floor(this.options.pause.timeoutMs / 3));
    this.timer = setInterval(() => void this.renew(), every);
  }

  private stopRenewing(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async renew(): Promise<void> {
    if (this.renewalsInFlight >= MAX_RENEWALS_IN_FLIGHT || !this.held || this.released) return;
    // Checked right before sending, on the connection UNPAUSE uses: commands stay in order, so a
    // renewal sent before lift() runs before its UNPAUSE, and none is sent after it.
    if (!this.wanted) return;
    this.renewalsInFlight++;
    try {
      const t = await this.pauseNow();
      // Replies come back in the order sent: untilMs is the end the previous renewal set.
      if (this.untilMs !== undefined && t > this.untilMs && !this.lapsedOnce) {
        this.lapsedOnce = true;
        this.options.warn(
          `the write pause ran out at ${new Date(this.untilMs).toISOString()} before it was renewed`,
        );
      }
      if (this.held && this.wanted) this.untilMs = t + this.options.pause.timeoutMs;
    } catch (err) {
      this.options.logger.warn({ err: errorMessage(err) }, 'could not renew the write pause; trying again');
    } finally {
      this.renewalsInFlight--;
    }
  }

  /**
   * TIME and CLIENT PAUSE sent together (one round trip, not two: under load each round trip can
   * take longer than a short pause lasts): the source's clock right before the pause was extended.
   * On a cluster source every primary is paused; the first pause is all or nothing.
   */
  private async pauseNow(initial = false): Promise<number> {
    const now = this.sourceNowMs();
    now.catch(() => undefined);
    const timeoutMs = this.options.pause.timeoutMs;
    if (this.others.length === 0) await pauseWrites(this.options.connection, { timeoutMs });
    else if (initial) await pauseEveryNode(this.allNodes, { timeoutMs });
    else await Promise.all(this.allNodes.map((n) => pauseWrites(n.conn, { timeoutMs })));
    return now;
  }

  /** Every node paused: `connection` alone for a standalone source. */
  private get allNodes(): PausedNode[] {
    return this.options.nodes?.length
      ? this.options.nodes
      : [{ address: 'the source', conn: this.options.connection }];
  }

  private get others(): PausedNode[] {
    return this.allNodes.filter((n) => n.conn !== this.options.connection);
  }

  private async sourceNowMs(): Promise<number> {
    const [sec, usec] = (await this.options.connection.time()) as unknown as [string, string];
    return Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
  }
}
