// The steps' side of the live phase: make sure a follower runs with a goal, and wait (bounded) for
// its status to say the goal is reached. Steps never hold live-sync state themselves, so any worker
// can run any step, and no step job stays active while a person is asked for something.
import { TransientStepError, UnrecoverableStepError } from '../../runbook/errors.js';
import type { StepContext } from '../../runbook/step-executor.js';
import { Wakeup } from '../../util/wakeup.js';
import type { FollowerRecord, FollowerStore } from './store.js';
import {
  type FollowerGoal,
  type FollowerLauncher,
  type FollowerStatus,
  type LivePhaseTiming,
  TERMINAL_FOLLOWER_STATES,
} from './types.js';

/** What the live-phase executors need from the process: the control Redis and a way to start jobs. */
export interface LivePhase {
  store: FollowerStore;
  launcher: FollowerLauncher;
  timing: LivePhaseTiming;
}

type Ctx = Pick<StepContext, 'migration' | 'step' | 'signal' | 'reportProgress'>;

export interface Ensured {
  run: number;
  /** The command to wait for (handledSeq >= seq). */
  seq: number;
  /** A new run was started for this call. */
  started: boolean;
}

/**
 * Makes sure a follower run is alive and working towards `goal` (or further): the current run gets
 * the goal; a run that ended or whose job is gone is replaced by a new one. `reconcile` says
 * whether a new run must reconcile at start (anything but a follower started before the bulk copy
 * scans must: changes made while nobody was subscribed are otherwise lost).
 */
export async function ensureFollower(
  lp: LivePhase,
  ctx: Pick<Ctx, 'migration' | 'step'>,
  goal: FollowerGoal,
  options: { reconcile: boolean },
): Promise<Ensured> {
  const id = ctx.migration.id;
  const by = `step:${ctx.step.id}`;
  for (let round = 0; round < 10; round++) {
    const rec = await lp.store.read(id);
    const ended = rec.status !== undefined && TERMINAL_FOLLOWER_STATES.has(rec.status.state);
    const alive = rec.run > 0 && !ended && (await lp.launcher.alive({ migrationId: id, run: rec.run }));
    if (alive) {
      const res = await lp.store.setGoal(id, goal, by, rec.run);
      if (res.kind === 'ok' || res.kind === 'kept') {
        // Launching again is harmless and repairs a job lost between the run's start and its launch.
        await lp.launcher.launch({ migrationId: id, run: res.run });
        return { run: res.run, seq: res.seq, started: false };
      }
      continue;
    }
    const started = await lp.store.startRun(id, rec.run, goal, by, options.reconcile);
    if (!started.started) continue;
    await lp.launcher.launch({ migrationId: id, run: started.run });
    const cmd = await lp.store.command(id);
    return { run: started.run, seq: cmd?.seq ?? 0, started: true };
  }
  throw new TransientStepError('could not start the follower: too many concurrent changes; trying again');
}

/**
 * Whether the status is the word of a live follower: published within a few status intervals (on
 * the control Redis's clock). A follower that died leaves its last status behind; trusting an old
 * "caught up" would let a verification run while nobody applies changes.
 */
export function isFresh(rec: Pick<FollowerRecord, 'statusAgeMs'>, timing: LivePhaseTiming): boolean {
  return rec.statusAgeMs !== undefined && rec.statusAgeMs <= staleAfterMs(timing);
}

export function staleAfterMs(timing: LivePhaseTiming): number {
  return Math.max(3 * timing.statusIntervalMs, 300);
}

export interface WaitOptions {
  /** For messages: "the follower to catch up". */
  what: string;
  until: (s: FollowerStatus) => boolean;
  timeoutMs: number;
  /** Fail when this command was handled with an error. */
  seq?: number;
  onStatus?: (s: FollowerStatus) => void;
}

/**
 * Reads the follower's status until `until` holds, on a fresh status (or a final one): again at
 * each status the follower publishes (so a cutover step goes on the moment the follower is done,
 * not at the next poll), and every pollMs in case an announcement was missed. A failed or stopped
 * follower fails the wait (unrecoverable: its message says why); running out of time is transient
 * (the step is retried).
 */
export async function waitForFollower(
  lp: LivePhase,
  ctx: Ctx,
  options: WaitOptions,
): Promise<FollowerStatus> {
  const id = ctx.migration.id;
  const deadline = Date.now() + options.timeoutMs;
  let last: FollowerStatus | undefined;
  const announced = new Wakeup();
  const stopListening = await lp.store.onStatus(id, () => announced.wake()).catch(() => () => {});
  try {
    for (;;) {
      const s = await readAndJudge();
      if (s) return s;
      await announced.wait(lp.timing.pollMs, ctx.signal);
    }
  } finally {
    stopListening();
  }

  async function readAndJudge(): Promise<FollowerStatus | undefined> {
    if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('stopped');
    const rec = await lp.store.read(id);
    const s = rec.status;
    if (s) {
      last = s;
      if (options.seq !== undefined && s.handledSeq >= options.seq && s.commandError) {
        throw new UnrecoverableStepError(`${options.what} failed: ${s.commandError}`);
      }
      const final = TERMINAL_FOLLOWER_STATES.has(s.state);
      if (options.until(s) && (final || isFresh(rec, lp.timing))) return s;
      if (s.state === 'failed')
        throw new UnrecoverableStepError(`the follower failed: ${s.error ?? 'unknown error'}`);
      if (s.state === 'stopped') {
        throw new UnrecoverableStepError(
          `the follower stopped (${s.stoppedBecause ?? 'no reason given'}) before ${options.what}`,
        );
      }
      options.onStatus?.(s);
    }
    if (Date.now() > deadline) {
      throw new TransientStepError(
        `timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${options.what}; ` +
          (last
            ? `follower run ${last.run}: ${describeStatus(last)}` +
              (isFresh(rec, lp.timing)
                ? ''
                : ` (last heard of ${Math.round((rec.statusAgeMs ?? 0) / 1000)} s ago)`)
            : `no worker has picked up follower run ${rec.run} (are workers of this build running and do they know the endpoints?)`),
      );
    }
    return undefined;
  }
}

/** Ensures the source is paused by the follower with every earlier change applied. */
export async function ensurePaused(lp: LivePhase, ctx: Ctx): Promise<FollowerStatus> {
  const { seq } = await ensureFollower(lp, ctx, 'pause', { reconcile: true });
  return waitForFollower(lp, ctx, {
    what: 'the write pause and drain',
    until: (s) => s.paused && s.drained && s.handledSeq >= seq,
    seq,
    timeoutMs: lp.timing.drainTimeoutMs + lp.timing.commandTimeoutMs,
    onStatus: (s) =>
      ctx.reportProgress({
        phase: s.state,
        lagMs: s.lagMs,
        message: s.paused
          ? s.psync
            ? `writes paused; applying the stream up to the source's offset (lag ${s.psync.lagBytes ?? '?'} bytes)`
            : `writes paused; draining ${s.pendingKeys} pending key(s)`
          : `follower ${s.state.replace('_', ' ')}`,
      }),
  });
}

export function describeStatus(s: FollowerStatus): string {
  const parts = [`${s.state.replace('_', ' ')} on ${s.worker}`];
  if (s.psync) parts.push(...psyncParts(s.psync));
  else if (s.mode === 'live') parts.push(`${s.pendingKeys} key(s) pending`, `lag ${s.lagMs} ms`);
  if (s.rescanPending) parts.push('reconcile pass pending');
  if (s.paused) parts.push(`writes paused since ${s.pauseStartedAt}`);
  if (s.error) parts.push(`error: ${s.error}`);
  return parts.join(', ');
}

/** The replica's side of a psync follower, for people: the RDB while it loads, then the lag. */
function psyncParts(p: NonNullable<FollowerStatus['psync']>): string[] {
  if (p.phase === 'rdb') {
    const got = p.rdbProgress;
    if (!got) return ['receiving the RDB'];
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    const total = got.totalBytes ? ` of ${mb(got.totalBytes)}` : '';
    return [`loading the RDB: ${mb(got.bytes)}${total} MiB, ${got.keys} keys`];
  }
  if (p.phase !== 'stream') return [`replica ${p.phase}`];
  const seconds = p.lagSeconds === null ? '' : `, ${p.lagSeconds.toFixed(1)} s`;
  return [`applied offset ${p.appliedOffset ?? '?'}`, `lag ${p.lagBytes ?? '?'} bytes${seconds}`];
}
