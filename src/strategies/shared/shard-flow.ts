// The port through which a step that runs per source shard (the bulk copy and the verify of a
// cluster) hands its shards to the job queue: one job per shard, which any worker may take, each
// with its own checkpoint. The jobs layer implements it (BullMQ flows); the domain sees only this.
import type { SourceShard } from '../../engine/cluster/shards.js';
import type { ShardProgressLine, StepRef } from '../../runbook/model.js';

/** copy: DUMP/RESTORE from a client; migrate: the source primary sends MIGRATE; verify: compare. */
export type ShardTask = 'copy' | 'migrate' | 'verify';

/** What one shard job carries: the step run it belongs to, its task and its shard. */
export interface ShardJobData extends StepRef {
  task: ShardTask;
  shard: SourceShard;
}

/** A failed key or a difference, JSON-safe: the key as printable text and as hex. */
export interface ShardKeyNote {
  key: string;
  keyHex: string;
  detail: string;
  /** `host:port` of the target node involved (verify). */
  targetNode?: string;
  kind?: string;
}

/** One shard's report as it travels through the queue (JSON). */
export interface ShardResult {
  shard: string;
  node: string;
  task: ShardTask;
  /** Copy: keys copied; verify: keys checked. */
  keys: number;
  vanished: number;
  bigKeys: number;
  byType: number;
  keysFailed: number;
  /** Copy: failed keys; verify: differences (capped). */
  notes: ShardKeyNote[];
  /** Verify: differences counted (the notes are capped). */
  differences: number;
  identical: boolean | null;
  complete: boolean;
  incompleteReason?: string;
  /** The scan started past the first key, from a checkpoint an earlier job saved. */
  resumed: boolean;
  /** The worker that finished it. */
  worker: string;
  durationMs: number;
}

export type ShardOutcome =
  | { shard: string; node: string; state: 'done'; result: ShardResult }
  | { shard: string; node: string; state: 'failed'; error: string };

export interface ShardFlowHooks {
  /** The step's signal: an abort or a handover stops the wait (the shard jobs stop themselves). */
  signal: AbortSignal;
  /** Every shard's line, whenever one changed (polled). */
  onProgress(lines: ShardProgressLine[]): void;
}

export interface ShardFlow {
  /**
   * Queues one job per shard for this run of the step (idempotent: a worker that takes the step
   * over finds the jobs already there and waits for them) and resolves once every one has ended.
   */
  run(ref: StepRef, task: ShardTask, shards: SourceShard[], hooks: ShardFlowHooks): Promise<ShardOutcome[]>;
}

/** Given to the strategies' executors; undefined where this process has no queue (a unit test). */
export type ShardFlowProvider = () => ShardFlow | undefined;
