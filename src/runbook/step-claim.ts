// Taking a step for one delivery of its job: a compare-and-set to running that raises the fencing
// epoch and takes the lease, or the reason this delivery must not run it (stale, already done,
// not its turn, another worker holds it). A delivery that finds the migration aborted while its
// step still ran (its worker went silent) records the abort itself.
import { workerActor } from './events.js';
import { findStep, type Migration, type Step, type StepRef } from './model.js';
import type { MigrationTransactions, Mutation } from './service/transactions.js';
import { currentStep } from './state-machine.js';
import { defaultAbortState } from './step-executor.js';
import type { RunResult } from './step-finish.js';

export type Claimed = { kind: 'claimed'; migration: Migration; step: Step; epoch: number };

export interface ClaimOptions {
  workerId: string;
  leaseMs: number;
}

/** Takes the step if this delivery may run it now; otherwise says why not. */
export async function claimStep(
  tx: MigrationTransactions,
  ref: StepRef,
  { workerId, leaseMs }: ClaimOptions,
): Promise<Claimed | RunResult> {
  const actor = workerActor(workerId);
  const skip = (m: Migration, reason: string, enqueue: StepRef[] = []): Mutation<RunResult> => ({
    ok: true,
    migration: m,
    events: [],
    enqueue,
    message: reason,
    value: { kind: 'skipped', reason },
  });
  const res = await tx.mutate<RunResult | Claimed>(ref.migrationId, (m) => {
    const step = findStep(m, ref.stepId);
    if (!step) return skip(m, `migration has no step ${ref.stepId}`);
    if (step.attempt !== ref.attempt) {
      return skip(m, `stale delivery of run ${ref.attempt}; the step is on run ${step.attempt}`);
    }
    const running = step.status === 'running';
    const claim = {
      stepId: step.id,
      epoch: step.epoch,
      leaseMs,
      owner: workerId,
      requireExpired: running,
    };
    if (m.abort) {
      if (!running) return skip(m, 'the migration was aborted');
      // Its worker went silent (the script checks the lease): record the abort ourselves. The
      // claim raises the epoch, so a late write from that worker is refused.
      const state = defaultAbortState(step);
      tx.move(step, 'abort');
      step.summary = state;
      step.finishedAt = tx.iso();
      step.epoch += 1;
      delete step.worker;
      const events = [
        tx.stepEvent(m, step, 'step_aborted', actor, {
          message: `"${step.title}" stopped by the abort: ${state}`,
          data: { state },
        }),
      ];
      return {
        ok: true,
        migration: m,
        events,
        options: { claim },
        message: 'aborted',
        value: { kind: 'aborted', state },
      };
    }
    if (step.status === 'succeeded') {
      // A redelivery after the result was written: make sure what follows is queued.
      return skip(m, 'the step already succeeded', tx.runnable(m));
    }
    const isCurrent = currentStep(m.steps)?.id === step.id;
    const claimable =
      step.status === 'approved' ||
      running ||
      (step.status === 'pending' && !step.needsApproval && isCurrent && Boolean(m.startedAt));
    if (!claimable) return skip(m, `the step is ${step.status.replace('_', ' ')}`);
    if (!running) tx.move(step, 'claim');
    step.epoch += 1;
    step.attempts += 1;
    step.startedAt ??= tx.iso();
    step.worker = workerId;
    step.updatedAt = tx.iso();
    // Taking over a running step (stall, shutdown hand-over, retry after a transient error)
    // continues from the checkpoint; a claim from approved/pending is a fresh start.
    const again = step.attempts > 1 ? ` again (execution ${step.attempts})` : '';
    const events = [
      tx.stepEvent(m, step, running ? 'step_resumed' : 'step_started', actor, {
        message: running
          ? `worker ${workerId} resumed "${step.title}" from its last checkpoint (execution ${step.attempts})`
          : `worker ${workerId} started "${step.title}"${again}`,
        data: { epoch: step.epoch, execution: step.attempts, takeover: running },
      }),
    ];
    return {
      ok: true,
      migration: m,
      events,
      options: { claim },
      message: 'claimed',
      value: { kind: 'claimed', migration: m, step, epoch: step.epoch },
    };
  });
  if (!res.ok) {
    if (res.code === 'busy') return { kind: 'busy', retryInMs: res.retryInMs ?? leaseMs };
    return { kind: 'skipped', reason: res.reason };
  }
  if (res.value.kind === 'claimed') {
    const step = findStep(res.migration, ref.stepId)!;
    return { kind: 'claimed', migration: res.migration, step, epoch: step.epoch };
  }
  return res.value;
}
