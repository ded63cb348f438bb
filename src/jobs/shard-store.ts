// Each shard job's own record on the control Redis, keyed by migration, step and shard: its
// checkpoint (the engine's resume point), its result once finished, and a fencing epoch raised by
// every job run that takes the shard, so a worker that stalled and woke up cannot write over the
// checkpoint of the worker that took its shard over.
import type { Redis } from 'ioredis';
import type { ShardCheckpointStore } from '../engine/cluster/shards.js';
import type { ShardResult } from '../strategies/shared/shard-flow.js';

/** Kept as long as a finished job (a month): long enough for any Retry. */
const TTL_SECONDS = 30 * 86_400;

// KEYS[1] the shard's hash; ARGV: epoch, field, value. Writes only while the epoch is ours.
const FENCED_SET = `
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
return 1`;

export class ShardFencedError extends Error {
  constructor(shard: string) {
    super(`shard ${shard} was taken over by another worker`);
    this.name = 'ShardFencedError';
  }
}

export interface ShardKey {
  migrationId: string;
  stepId: string;
  shard: string;
}

export class ShardStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  key(k: ShardKey): string {
    return `${this.prefix}:mig:${k.migrationId}:shard:${k.stepId}:${k.shard}`;
  }

  /** Takes the shard for one job run: the epoch its writes must carry. */
  async claim(k: ShardKey): Promise<number> {
    const key = this.key(k);
    const [[, epoch]] = (await this.redis
      .multi()
      .hincrby(key, 'epoch', 1)
      .expire(key, TTL_SECONDS)
      .exec()) as [[unknown, number]];
    return Number(epoch);
  }

  async epoch(k: ShardKey): Promise<number> {
    return Number((await this.redis.hget(this.key(k), 'epoch')) ?? 0);
  }

  async result(k: ShardKey): Promise<ShardResult | null> {
    const raw = await this.redis.hget(this.key(k), 'result');
    return raw ? (JSON.parse(raw) as ShardResult) : null;
  }

  async checkpoint(k: ShardKey): Promise<unknown | null> {
    const raw = await this.redis.hget(this.key(k), 'cp');
    return raw ? revive(JSON.parse(raw)) : null;
  }

  /** The engine's checkpoint store for the run holding `epoch`. */
  checkpointStore(k: ShardKey, epoch: number): ShardCheckpointStore {
    return {
      load: () => this.checkpoint(k),
      save: async (state) => this.fencedSet(k, epoch, 'cp', JSON.stringify(state)),
    };
  }

  /** Records the finished shard (a Retry of the step returns it without copying again). */
  finish(k: ShardKey, epoch: number, result: ShardResult): Promise<void> {
    return this.fencedSet(k, epoch, 'result', JSON.stringify(result));
  }

  private async fencedSet(k: ShardKey, epoch: number, field: string, value: string): Promise<void> {
    const ok = await this.redis.eval(FENCED_SET, 1, this.key(k), String(epoch), field, value);
    if (Number(ok) !== 1) throw new ShardFencedError(k.shard);
  }
}

/** Buffers in a checkpoint come back as Buffers (JSON turns them into {type, data}). */
function revive(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revive);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (o.type === 'Buffer' && Array.isArray(o.data)) return Buffer.from(o.data as number[]);
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, revive(v)]));
  }
  return value;
}
