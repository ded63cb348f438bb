// The shard jobs of a step as a BullMQ flow: a parent job per step run whose children are one job
// per source shard, on their own queue, so every worker process shares them. A child that fails
// for good fails the parent (failParentOnFailure); once all are done the parent runs and returns
// their results (getChildrenValues). The step's job waits on the flow, reading the children's
// progress, while it keeps its own lease.
import { FlowProducer, type Job, Queue } from 'bullmq';
import type { SourceShard } from '../engine/cluster/shards.js';
import type { Endpoint } from '../redis/endpoint.js';
import type { ShardProgressLine, StepRef } from '../runbook/model.js';
import type {
  ShardFlow,
  ShardFlowHooks,
  ShardJobData,
  ShardOutcome,
  ShardResult,
  ShardTask,
} from '../strategies/shared/shard-flow.js';
import { sleep } from '../util/sleep.js';
import { bullConnection } from './connection.js';
import { shardJobId, shardParentJobId } from './job-ids.js';
import { bullPrefix } from './queue.js';
import type { JobTiming } from './timing.js';

export const SHARDS_QUEUE = 'mb-shards';

/** A shard job's progress, as its worker publishes it (job.updateProgress). */
export interface ShardJobProgress {
  worker: string;
  scanned: number;
  copied: number;
  estimatedKeys: number | null;
}

/** The parent's data: which step run it joins. */
export interface ShardParentData extends StepRef {
  task: ShardTask;
  parent: true;
}

const POLL_MS = 250;

export class ShardQueue implements ShardFlow {
  readonly queue: Queue;
  private readonly producer: FlowProducer;

  constructor(
    endpoint: Endpoint,
    private readonly timing: Pick<JobTiming, 'attempts' | 'backoffMs'>,
    prefix = 'mb',
  ) {
    const opts = { connection: bullConnection(endpoint, 'shard-queue'), prefix: bullPrefix(prefix) };
    this.queue = new Queue(SHARDS_QUEUE, opts);
    this.queue.on('error', () => {});
    this.producer = new FlowProducer({ ...opts, connection: bullConnection(endpoint, 'shard-flow') });
    this.producer.on('error', () => {});
  }

  async run(
    ref: StepRef,
    task: ShardTask,
    shards: SourceShard[],
    hooks: ShardFlowHooks,
  ): Promise<ShardOutcome[]> {
    const parentId = shardParentJobId(ref, task);
    // A worker that takes the step over finds the flow its predecessor queued.
    if (!(await this.queue.getJob(parentId))) await this.add(ref, task, shards, parentId);
    const childIds = shards.map((s) => shardJobId(ref, s.id));
    let lastLines = '';
    for (;;) {
      hooks.signal.throwIfAborted();
      // States first: a job read after its state holds at least what that state says (the
      // result of a completed job, the reason of a failed one).
      const states = await Promise.all(childIds.map((id) => this.queue.getJobState(id)));
      const children = await Promise.all(childIds.map((id) => this.queue.getJob(id)));
      const lines = shards.map((s, i) => line(s, children[i], states[i]!));
      const text = JSON.stringify(lines);
      if (text !== lastLines) {
        lastLines = text;
        hooks.onProgress(lines);
      }
      // A shard failed for good (its parent failed with it), or every shard finished: the
      // children say which, so the parent need not have run yet.
      if (states.some((s) => s === 'failed') || states.every((s) => s === 'completed')) {
        return shards.map((s, i) => outcome(s, children[i], states[i]!));
      }
      await sleep(POLL_MS, hooks.signal).catch(() => undefined);
    }
  }

  private async add(ref: StepRef, task: ShardTask, shards: SourceShard[], parentId: string): Promise<void> {
    const parentData: ShardParentData = { ...ref, task, parent: true };
    await this.producer.add({
      name: 'join',
      queueName: SHARDS_QUEUE,
      data: parentData,
      opts: { jobId: parentId, removeOnComplete: { age: 7 * 86_400 }, removeOnFail: { age: 30 * 86_400 } },
      children: shards.map((shard) => {
        const data: ShardJobData = { ...ref, task, shard };
        return {
          name: 'shard',
          queueName: SHARDS_QUEUE,
          data,
          opts: {
            jobId: shardJobId(ref, shard.id),
            attempts: this.timing.attempts,
            backoff: { type: 'exponential' as const, delay: this.timing.backoffMs },
            failParentOnFailure: true,
            // Kept so the step (and a Retry) can read each shard's result and failure.
            removeOnComplete: false,
            removeOnFail: false,
          },
        };
      }),
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.queue.close(), this.producer.close()]);
  }
}

function line(shard: SourceShard, job: Job | undefined, state: string): ShardProgressLine {
  const p = (job?.progress ?? {}) as Partial<ShardJobProgress>;
  const result = job?.returnvalue as ShardResult | null | undefined;
  const out: ShardProgressLine = {
    shard: shard.id,
    node: shard.readFrom,
    state:
      state === 'completed'
        ? 'done'
        : state === 'failed'
          ? 'failed'
          : state === 'active'
            ? 'running'
            : 'waiting',
    keysDone: result?.keys ?? p.copied ?? p.scanned ?? 0,
    keysTotal: p.estimatedKeys ?? null,
  };
  const worker = result?.worker ?? p.worker;
  if (worker) out.worker = worker;
  return out;
}

function outcome(shard: SourceShard, job: Job | undefined, state: string): ShardOutcome {
  const base = { shard: shard.id, node: shard.readFrom };
  if (state === 'completed' && job?.returnvalue) {
    return { ...base, state: 'done', result: job.returnvalue as ShardResult };
  }
  if (state === 'failed') return { ...base, state: 'failed', error: job?.failedReason || 'failed' };
  return { ...base, state: 'failed', error: 'not finished: stopped when another shard failed' };
}
