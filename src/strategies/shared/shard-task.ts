// One shard job's work: the step's copy or verify restricted to one source shard (the per-shard
// engine, src/engine/cluster/shards.ts), with the step's approved parameters, the shard's own
// checkpoint and a JSON-safe result for the queue.
import {
  copyShard,
  migrateShard,
  type ShardCheckpointStore,
  type ShardProgress,
  type SourceShard,
  verifyShard,
} from '../../engine/cluster/shards.js';
import { type DbMapping, remapFromParams } from '../../engine/db-mapping.js';
import { printableKey } from '../../probe/printable-key.js';
import type { Endpoint } from '../../redis/endpoint.js';
import type { Logger } from '../../util/logger.js';
import { recheckDifferences } from './recheck-across.js';
import type { ShardKeyNote, ShardResult, ShardTask } from './shard-flow.js';

/** Failed keys and differences kept per shard (the counts cover them all). */
const NOTES_KEPT = 20;
/** verifyShard lists this many differences at most (its MAX_DIFFERENCES). */
const MAX_LISTED_DIFFERENCES = 1000;

export interface ShardTaskContext {
  task: ShardTask;
  params: Record<string, unknown>;
  endpoints: { source: Endpoint; target: Endpoint };
  shard: SourceShard;
  checkpoint: ShardCheckpointStore;
  signal: AbortSignal;
  onProgress(p: ShardProgress): void;
  logger: Logger;
  worker: string;
}

/** The db pair(s) from the step's parameters, as the standalone copy reads them. */
export function mappingFromParams(params: Record<string, unknown>): DbMapping {
  const remap = remapFromParams(params);
  return { dbs: (params.dbs as DbMapping['dbs']) ?? 'all', ...(remap ? { remap } : {}) };
}

const note = (key: Buffer, detail: string, extra: Partial<ShardKeyNote> = {}): ShardKeyNote => ({
  key: printableKey(key),
  keyHex: key.toString('hex'),
  detail,
  ...extra,
});

export async function runShardTask(ctx: ShardTaskContext): Promise<ShardResult> {
  const started = Date.now();
  let resumed = false;
  // Whether the engine started from a saved cursor: what a takeover must do.
  const checkpoint: ShardCheckpointStore = {
    load: async () => {
      const cp = await ctx.checkpoint.load();
      if (cp !== null && cp !== undefined) resumed = true;
      return cp;
    },
    save: (state) => ctx.checkpoint.save(state),
  };
  const run = {
    source: ctx.endpoints.source,
    target: ctx.endpoints.target,
    shard: ctx.shard,
    mapping: mappingFromParams(ctx.params),
    // The non-empty target policy was applied once before the shards ran; from then on a
    // restore may meet its own earlier copy (a resumed batch), so it replaces.
    replace: true,
    checkpoint,
    onProgress: ctx.onProgress,
    signal: ctx.signal,
    logger: ctx.logger,
  };
  const base = {
    shard: ctx.shard.id,
    node: ctx.shard.readFrom,
    task: ctx.task,
    worker: ctx.worker,
  };
  if (ctx.task === 'copy' || ctx.task === 'migrate') {
    const r =
      ctx.task === 'copy'
        ? await copyShard(run)
        : await migrateShard({
            ...run,
            ...(typeof ctx.params.timeoutMs === 'number' ? { timeoutMs: ctx.params.timeoutMs } : {}),
            ...(typeof ctx.params.batchKeys === 'number' ? { batchSize: ctx.params.batchKeys } : {}),
          });
    return {
      ...base,
      keys: r.copied,
      vanished: r.vanished,
      bigKeys: r.bigKeys,
      byType: r.byType,
      keysFailed: r.failed.length,
      notes: r.failed.slice(0, NOTES_KEPT).map((f) => note(f.key, f.reason)),
      differences: 0,
      identical: null,
      complete: r.complete,
      ...(r.incompleteReason ? { incompleteReason: r.incompleteReason } : {}),
      resumed,
      durationMs: Date.now() - started,
    };
  }
  const ttlToleranceMs = typeof ctx.params.ttlToleranceMs === 'number' ? ctx.params.ttlToleranceMs : 500;
  const r = await verifyShard({ ...run, ttlToleranceMs, reverse: ctx.params.reverse !== false });
  // Under live sync a key changed mid-read differs for a moment: only what still differs counts.
  // Past the differences kept, the unlisted ones cannot be looked at again: the verdict stands.
  const listedAll = r.differences.length < MAX_LISTED_DIFFERENCES;
  if (!r.identical && r.complete !== false && listedAll) {
    const still = await recheckDifferences(r.differences, {
      source: run.source,
      target: run.target,
      shard: run.shard,
      mapping: run.mapping,
      ttlToleranceMs,
      signal: ctx.signal,
    });
    r.differences = still.map((d) => ({ ...d, sourceShard: ctx.shard.id }));
    r.identical = still.length === 0;
  }
  return {
    ...base,
    keys: r.checked,
    vanished: 0,
    bigKeys: 0,
    byType: 0,
    keysFailed: 0,
    notes: r.differences
      .slice(0, NOTES_KEPT)
      .map((d) => note(d.key, d.detail, { kind: d.kind, targetNode: d.targetNode })),
    differences: r.differences.length,
    identical: r.identical,
    complete: true,
    resumed,
    durationMs: Date.now() - started,
  };
}
