// The dump-restore cutover: pause writes on the source, drain live sync, repoint the applications,
// end stale source connections, stop following, resume writes.
//
// Guarantees:
// - No acknowledged write is lost: writes are paused before the drain, the drain is a barrier for
//   every change acknowledged before it (LiveSync.drain), and writes that arrive during the pause wait
//   on the source unacknowledged. Connections still on the source after the repoint are killed while
//   paused, so their waiting writes are never executed there: their clients see a dropped connection
//   and retry, against the new address.
// - The source never stays paused: any failure resumes writes before the error is thrown, and the
//   CLIENT PAUSE timeout lifts the pause by itself should this process die.
// - Live sync stops before writes resume, so a straggler writing to the source afterwards cannot
//   overwrite newer data on the target. Such stragglers show up in `clientsRemaining`.

import type { Redis } from 'ioredis';
import { connect } from '../../redis/connect.js';
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { ExitCode, errorMessage, UserError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { killClients, listSourceClients, type SourceClient } from './clients.js';
import {
  DEFAULT_PAUSE_TIMEOUT_MS,
  pauseRemainingMs,
  pauseWrites,
  resumeWrites,
  type WritePause,
} from './pause.js';

/** What the cutover needs from live sync (LiveSync implements it). */
export interface Drainable {
  drain(options?: { timeoutMs?: number }): Promise<{ durationMs: number; keysApplied: number }>;
  /** Stops following; `consistent: false` (LiveSync's report) becomes a warning of the cutover. */
  stop(): Promise<{ consistent?: boolean } | undefined>;
}

export type CutoverPhase =
  | 'pausing'
  | 'draining'
  | 'repointing'
  | 'killing'
  | 'stopping-live-sync'
  | 'resuming';

export interface RepointContext {
  /** Milliseconds left before the pause's safety timeout lifts it by itself. */
  pauseRemainingMs: () => number;
  signal?: AbortSignal;
}

export interface CutoverOptions {
  source: Endpoint;
  liveSync: Drainable;
  /** Points the applications at the target (hook, webhook, or a person confirming). */
  repoint: (context: RepointContext) => Promise<void>;
  /** Safety timeout of CLIENT PAUSE (default 30 s): the longest the source can stay paused. */
  pauseTimeoutMs?: number;
  /** Longest the drain may take (default: half the pause timeout). */
  drainTimeoutMs?: number;
  /** Kill application connections still on the source after the repoint (default true). */
  killStaleClients?: boolean;
  signal?: AbortSignal;
  logger?: Logger;
  onPhase?: (phase: CutoverPhase) => void;
  /** An open admin connection to the source; by default one is opened and closed here. */
  connection?: Redis;
}

export interface CutoverReport {
  pauseStartedAt: string;
  /** Measured write pause (upper bound: from sending CLIENT PAUSE to the UNPAUSE reply). */
  pausedMs: number;
  drainMs: number;
  keysDrained: number;
  repointMs: number;
  /** Connections killed on the source after the repoint. */
  killed: SourceClient[];
  /** Application connections seen on the source after the kill (reconnected stragglers). */
  clientsRemaining: SourceClient[];
  /** True when the safety timeout lifted the pause before the cutover finished. */
  pauseExpired: boolean;
  warnings: string[];
}

export class CutoverError extends UserError {
  constructor(
    message: string,
    readonly phase: CutoverPhase,
    /** Whether writes on the source were resumed before this error was thrown. */
    readonly resumed: boolean,
    override readonly cause: unknown,
  ) {
    super(message, ExitCode.problem);
    this.name = 'CutoverError';
  }
}

export async function cutover(options: CutoverOptions): Promise<CutoverReport> {
  const where = describeEndpoint(options.source);
  const pauseTimeoutMs = options.pauseTimeoutMs ?? DEFAULT_PAUSE_TIMEOUT_MS;
  const log = options.logger;
  options.signal?.throwIfAborted();
  const admin = options.connection ?? (await connect(options.source, { role: 'cutover' }));
  const warnings: string[] = [];
  let phase: CutoverPhase = 'pausing';
  let pause: WritePause | undefined;
  const enter = (next: CutoverPhase) => {
    phase = next;
    log?.info({ source: where, phase }, 'cutover');
    options.onPhase?.(next);
  };
  try {
    enter('pausing');
    pause = await pauseWrites(admin, { timeoutMs: pauseTimeoutMs });
    const paused = pause;

    enter('draining');
    const drainBudget = Math.min(
      options.drainTimeoutMs ?? Math.floor(pauseTimeoutMs / 2),
      pauseRemainingMs(paused),
    );
    const drained = await options.liveSync.drain({ timeoutMs: Math.max(0, Math.floor(drainBudget)) });
    if (pauseRemainingMs(paused) <= 0) {
      throw new UserError(
        `the write pause (${pauseTimeoutMs} ms safety timeout) ran out during the drain, so writes may ` +
          `have reached the source after it; raise the pause timeout and retry`,
      );
    }
    options.signal?.throwIfAborted();

    enter('repointing');
    const repointStarted = performance.now();
    await options.repoint({
      pauseRemainingMs: () => pauseRemainingMs(paused),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const repointMs = performance.now() - repointStarted;

    // From here on the applications point at the target: finishing beats rolling back.
    enter('killing');
    let killed: SourceClient[] = [];
    if (options.killStaleClients !== false) {
      const stale = await listSourceClients(admin);
      const result = await killClients(admin, stale);
      killed = stale.filter((c) => !result.refused.includes(c));
      if (killed.length > 0) log?.info({ count: killed.length }, 'killed stale source connections');
    }

    enter('stopping-live-sync');
    const pauseExpired = pauseRemainingMs(paused) <= 0;
    if (pauseExpired) {
      // Writes may have been accepted since the pause ran out: apply whatever reached the source.
      warnings.push(
        `the write pause (${pauseTimeoutMs} ms) ran out during the repoint: writes made to the source ` +
          `after that were followed by live sync until it stopped, but may interleave with writes on the ` +
          `target; check the verification report`,
      );
      await options.liveSync.drain({ timeoutMs: Math.floor(pauseTimeoutMs / 2) }).catch((err) => {
        warnings.push(`the extra drain after the pause ran out failed: ${errorMessage(err)}`);
      });
    }
    const stopped = await options.liveSync.stop();
    if (stopped?.consistent === false) {
      warnings.push(
        'live sync reported a gap it could not reconcile before stopping: run a verification of the target',
      );
    }
    const clientsRemaining = await listSourceClients(admin);
    if (clientsRemaining.length > 0) {
      warnings.push(
        `${clientsRemaining.length} application connection(s) reached the source after the kill; their ` +
          `writes, if any, will not reach the target`,
      );
    }

    enter('resuming');
    const resumed = await resumeWrites(admin, paused);
    return {
      pauseStartedAt: new Date(paused.startedAt).toISOString(),
      pausedMs: resumed.pausedMs,
      drainMs: drained.durationMs,
      keysDrained: drained.keysApplied,
      repointMs,
      killed,
      clientsRemaining,
      pauseExpired: pauseExpired || resumed.expiredBeforeResume,
      warnings,
    };
  } catch (err) {
    const failedIn = phase as CutoverPhase; // set by enter(), which TS cannot see through
    let resumedNote = 'the source was not paused';
    let resumed = pause === undefined;
    if (pause) {
      resumed = await resumeSafely(admin, options.source, log);
      resumedNote = resumed
        ? 'writes on the source were resumed'
        : `writes on the source could NOT be resumed; the pause ends by itself within ` +
          `${Math.max(0, Math.ceil(pauseRemainingMs(pause) / 1000))} s`;
    }
    const splitNote =
      failedIn === 'repointing'
        ? '. Applications that were already repointed write to the target while the others write to the ' +
          'source: finish or undo the repoint, then run the cutover again (live sync is still running)'
        : '';
    throw new CutoverError(
      `cutover of ${where} failed while ${failedIn}: ${errorMessage(err)}; ${resumedNote}${splitNote}`,
      failedIn,
      resumed,
      err,
    );
  } finally {
    if (!options.connection) admin.disconnect();
  }
}

/** CLIENT UNPAUSE on the admin connection, or on a fresh one if that connection is broken. */
async function resumeSafely(admin: Redis, source: Endpoint, log: Logger | undefined): Promise<boolean> {
  try {
    await resumeWrites(admin);
    return true;
  } catch (err) {
    log?.warn({ err: errorMessage(err) }, 'CLIENT UNPAUSE failed; retrying on a new connection');
  }
  let fresh: Redis | undefined;
  try {
    fresh = await connect(source, { role: 'cutover-unpause', maxReconnects: 2 });
    await resumeWrites(fresh);
    return true;
  } catch (err) {
    log?.error({ err: errorMessage(err) }, 'could not resume writes on the source');
    return false;
  } finally {
    fresh?.disconnect();
  }
}
