// Executors of the live phase, on top of the follower:
//   bulk_copy      starts the follower collecting changes *before* the scan (subscribe first), runs
//                  the copy, then lets the follower apply what it collected
//   live_sync      makes sure the follower runs, waits until it has caught up; it keeps following
//   verify         (requireBacklogEmpty) waits for a caught-up follower, then verifies
//   write_pause    the follower pauses source writes (renewing the pause) and drains
//   repoint        the usual executor (hook or a person), with the source still paused
//   resume_writes  the follower kills stale connections, stops following, unpauses; measured
// In a plan without change capture (write pause first), the follower only holds the pause.
import { StepAbortedError, TransientStepError, UnrecoverableStepError } from '../../runbook/errors.js';
import type { StepContext, StepExecutor, StepOutcome } from '../../runbook/step-executor.js';
import {
  describeStatus,
  ensureFollower,
  ensurePaused,
  isFresh,
  type LivePhase,
  waitForFollower,
} from './control.js';
import { hasLiveSync, pausedDuring } from './spec.js';
import type { FollowerStatus, ResumeReport } from './types.js';

/** The live phase of this process, or undefined when it runs steps without a follower queue. */
export type LivePhaseProvider = () => LivePhase | undefined;

/** The process's live phase, or a failure that says the worker was started without it. */
export function need(get: LivePhaseProvider, ctx: StepContext): LivePhase {
  const lp = get();
  if (!lp) {
    throw new UnrecoverableStepError(
      `"${ctx.step.title}" needs the live-phase follower, which this worker was started without ` +
        '(workers started with startWorkers have it)',
    );
  }
  return lp;
}

/** The runner aborts a step's signal with "step stopped: <why>": only an abort asks for cleanup. */
function stoppedByAbort(signal: AbortSignal): boolean {
  if (!signal.aborted) return false;
  const reason = signal.reason as { message?: unknown } | undefined;
  return /\babort\b/.test(String(reason?.message ?? reason ?? ''));
}

const by = (ctx: StepContext) => `step:${ctx.step.id}`;

export function progressOf(ctx: StepContext, s: FollowerStatus): void {
  ctx.reportProgress({
    phase: s.state,
    keysDone: s.keysApplied,
    lagMs: s.lagMs,
    message: describeStatus(s),
  });
}

function backlog(s: FollowerStatus | undefined) {
  return s
    ? { state: s.state, pendingKeys: s.pendingKeys, lagMs: s.lagMs, keysApplied: s.keysApplied, run: s.run }
    : null;
}

function withResult(outcome: StepOutcome, extra: Record<string, unknown>): StepOutcome {
  return { ...outcome, result: { ...(outcome.result ?? {}), ...extra } };
}

export function liveSyncExecutor(get: LivePhaseProvider): StepExecutor {
  return {
    async run(ctx) {
      const lp = need(get, ctx);
      const { run } = await ensureFollower(lp, ctx, 'follow', { reconcile: true });
      const s = await waitForFollower(lp, ctx, {
        what: 'the follower to catch up with the source',
        until: (st) => st.applying && st.caughtUp,
        timeoutMs: lp.timing.catchUpTimeoutMs,
        onStatus: (st) => progressOf(ctx, st),
      });
      progressOf(ctx, s);
      const caughtUp = s.psync
        ? `caught up with the source's replication stream: applied offset ${s.psync.appliedOffset ?? '?'}, lag ` +
          `${s.psync.lagBytes ?? '?'} bytes, ${s.psync.lagSeconds ?? 0} s; the follower keeps applying the stream`
        : `caught up with the source: ${s.keysApplied} change(s) applied, ${s.pendingKeys} pending, lag ` +
          `${s.lagMs} ms${s.reconciledOnStart ? ', after a reconcile pass' : ''}; the follower keeps applying changes`;
      return {
        summary: `${caughtUp} until the write pause`,
        result: {
          followerRun: run,
          keysApplied: s.keysApplied,
          pendingKeys: s.pendingKeys,
          lagMs: s.lagMs,
          eventsReceived: s.eventsReceived,
          reconnects: s.reconnects,
          rescans: s.rescans,
          reconciledOnStart: s.reconciledOnStart,
          ...(s.psync ? { psync: s.psync } : {}),
          warnings: s.warnings,
        },
        verdict: s.warnings.length > 0 ? 'warning' : 'ok',
      };
    },
    abortState: () =>
      'source unchanged; the follower stops following, so the target may lag behind the source',
  };
}

/** bulk_copy with the source's changes recorded from before the scan (or under the write pause). */
export function liveBulkCopyExecutor(inner: StepExecutor, get: LivePhaseProvider): StepExecutor {
  return {
    async run(ctx) {
      const m = ctx.migration;
      if (pausedDuring(m, ctx.step)) {
        // Write pause first (no change capture, or MIGRATE's final pass): copy only while paused.
        await ensurePaused(need(get, ctx), ctx);
        return inner.run(ctx);
      }
      if (!hasLiveSync(m) || !ctx.step.params.captureChanges) {
        return inner.run(ctx);
      }
      const lp = need(get, ctx);
      // Subscribe first: the scan starts only once the follower records every change. A copy that
      // resumes from a checkpoint with a new follower run needs that run to reconcile afterwards.
      const { run } = await ensureFollower(lp, ctx, 'collect', { reconcile: ctx.checkpoint !== undefined });
      await waitForFollower(lp, ctx, {
        what: "the follower to subscribe to the source's changes",
        until: (s) => s.subscribed,
        timeoutMs: lp.timing.subscribeTimeoutMs,
        onStatus: (s) => progressOf(ctx, s),
      });
      const outcome = await inner.run(ctx);
      // The copy is complete: what changed meanwhile can be applied now without racing it.
      await lp.store.setGoal(m.id, 'follow', by(ctx));
      return withResult(
        {
          ...outcome,
          summary: `${outcome.summary}; changes made meanwhile are being applied by the follower`,
        },
        { followerRun: run },
      );
    },
    abortState: (ctx) =>
      `${inner.abortState?.(ctx) ?? 'the target holds a partial copy'}; the follower stops recording changes`,
  };
}

/** verify with requireBacklogEmpty: a caught-up follower before, and still following after. */
export function backlogVerifyExecutor(inner: StepExecutor, get: LivePhaseProvider): StepExecutor {
  return {
    async run(ctx) {
      if (ctx.step.params.requireBacklogEmpty !== true) return inner.run(ctx);
      const lp = need(get, ctx);
      await ensureFollower(lp, ctx, 'follow', { reconcile: true });
      const before = await waitForFollower(lp, ctx, {
        what: 'the live-sync backlog to empty',
        until: (s) => s.applying && s.caughtUp,
        timeoutMs: lp.timing.catchUpTimeoutMs,
        onStatus: (s) => progressOf(ctx, s),
      });
      const outcome = await inner.run(ctx);
      const rec = await lp.store.read(ctx.migration.id);
      const after = rec.status;
      if (!after || after.state === 'failed' || after.state === 'stopped') {
        throw new UnrecoverableStepError(
          `live sync stopped during the verification (${after ? describeStatus(after) : 'no follower'}); ` +
            'the target no longer follows the source',
        );
      }
      const interrupted =
        after.run !== before.run || after.epoch !== before.epoch || !isFresh(rec, lp.timing);
      if (interrupted && outcome.verdict === 'failed') {
        // Differences may be changes nobody applied while the follower was down: not a verdict.
        throw new TransientStepError(
          `the follower restarted or went silent during the verification, so its differences may be ` +
            `changes not applied yet; verifying again (${outcome.summary})`,
        );
      }
      return withResult(outcome, { backlog: { before: backlog(before), after: backlog(after) } });
    },
    abortState: (ctx) => inner.abortState?.(ctx) ?? 'verification only reads: nothing changed',
  };
}

export function writePauseExecutor(get: LivePhaseProvider): StepExecutor {
  return {
    async run(ctx) {
      const manual = ctx.step.params.method === 'manual';
      if (manual && !ctx.step.confirmedBy) {
        return {
          summary: 'waiting for a person to stop the writes',
          awaitConfirmation:
            `stop the apps writing to ${ctx.migration.source} (${ctx.endpoints.source.redactedUrl}), e.g. ` +
            'maintenance mode, then confirm',
        };
      }
      const lp = need(get, ctx);
      try {
        const s = await ensurePaused(lp, ctx);
        const timeout = Math.round((s.pauseTimeoutMs ?? 0) / 1000);
        const how = manual
          ? `the apps' writes were stopped by ${ctx.step.confirmedBy?.userId}`
          : `source writes paused since ${s.pauseStartedAt} (CLIENT PAUSE WRITE for ${timeout} s at a time, renewed ` +
            'by the follower until resume_writes)';
        const drained = !s.drain
          ? ''
          : s.drain.offset !== undefined
            ? `; the applied offset reached the source's master_repl_offset ${s.drain.offset} in ${s.drain.durationMs} ms`
            : `; ${s.drain.keysApplied} pending change(s) applied in ${s.drain.durationMs} ms`;
        return {
          summary: `${how}${drained}`,
          result: {
            method: manual ? 'manual' : 'client-pause',
            pauseStartedAt: s.pauseStartedAt ?? null,
            pauseTimeoutMs: s.pauseTimeoutMs ?? null,
            drainMs: s.drain?.durationMs ?? null,
            keysDrained: s.drain?.keysApplied ?? null,
            ...(s.drain?.offset !== undefined ? { drainedToOffset: s.drain.offset } : {}),
            followerRun: s.run,
            warnings: s.warnings,
          },
          verdict: s.warnings.length > 0 ? 'warning' : 'ok',
        };
      } catch (err) {
        if (stoppedByAbort(ctx.signal)) {
          // The follower also sees the abort flag; telling it directly saves a heartbeat.
          await lp.store.setGoal(ctx.migration.id, 'abort', by(ctx)).catch(() => undefined);
          throw new StepAbortedError(PAUSE_ABORT_STATE);
        }
        throw err;
      }
    },
    abortState: () => PAUSE_ABORT_STATE,
  };
}

const PAUSE_ABORT_STATE =
  'source writes are resumed by the abort: the follower lifts the write pause at once (a CLIENT PAUSE ' +
  'nobody renews also ends by itself); the target keeps what was copied';

/** repoint while the source is paused: re-pause first if the follower lost the pause. */
export function pausedRepointExecutor(inner: StepExecutor, get: LivePhaseProvider): StepExecutor {
  return {
    async run(ctx) {
      if (pausedDuring(ctx.migration, ctx.step)) {
        const lp = need(get, ctx);
        const s = (await lp.store.read(ctx.migration.id)).status;
        const holding = s?.paused && s.drained && s.state !== 'stopped' && s.state !== 'failed';
        if (!holding) await ensurePaused(lp, ctx);
      }
      return inner.run(ctx);
    },
    abortState: (ctx) =>
      `${inner.abortState?.(ctx) ?? 'check where the apps point'}; source writes are resumed by the abort`,
  };
}

export function resumeWritesExecutor(get: LivePhaseProvider): StepExecutor {
  return {
    async run(ctx) {
      const lp = need(get, ctx);
      const rec = await lp.store.read(ctx.migration.id);
      // A redelivery after the follower already resumed: report what it did.
      if (rec.status?.resume) return resumeOutcome(rec.status.resume, rec.status);
      const { seq } = await ensureFollower(lp, ctx, 'resume', { reconcile: false });
      const s = await waitForFollower(lp, ctx, {
        what: 'source writes to resume',
        until: (st) => st.state === 'stopped' && st.resume !== undefined,
        seq,
        timeoutMs: lp.timing.drainTimeoutMs + lp.timing.commandTimeoutMs,
        onStatus: (st) => progressOf(ctx, st),
      });
      return resumeOutcome(s.resume!, s);
    },
    abortState: () =>
      'source writes are resumed by the abort; stale source connections may already have been killed',
  };
}

function resumeOutcome(r: ResumeReport, s: FollowerStatus): StepOutcome {
  const killed = r.killed.length;
  const notes = r.warnings.length ? `; ${r.warnings.join('; ')}` : '';
  // A source cluster: the drain check names each node, with the connections still on it.
  const byNode = r.clientsRemainingByNode
    ? `; connections left by source node: ${Object.entries(r.clientsRemainingByNode)
        .map(
          ([address, c]) =>
            `${address} ${c.length}${
              c.length
                ? ` (${c
                    .slice(0, 3)
                    .map((x) => x.addr)
                    .join(', ')})`
                : ''
            }`,
        )
        .join(', ')}`
    : '';
  return {
    summary:
      `source writes resumed after a ${r.pausedMs} ms pause (measured on the source); ${killed} stale ` +
      `connection(s) killed${r.clientsRemaining.length ? `, ${r.clientsRemaining.length} reconnected` : ''}${byNode}${notes}`,
    result: { ...r, followerRun: s.run },
    verdict: r.warnings.length > 0 || r.pauseLapsed ? 'warning' : 'ok',
  };
}
