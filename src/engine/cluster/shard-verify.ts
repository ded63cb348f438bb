// verifyShard: one source shard compared with the target, both ways (see shards.ts).
import type { ShardVerifyOptions, ShardVerifyReport } from './shards.js';

export async function verifyShard(opts: ShardVerifyOptions): Promise<ShardVerifyReport> {
  // Replaced by the per-shard verify within this branch; refuses rather than reporting identical.
  throw new Error(`verifyShard of shard ${opts.shard.id}: not built yet on this branch`);
}
