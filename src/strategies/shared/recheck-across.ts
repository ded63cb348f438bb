// A shard's differences looked at again before they count, as the one-server verify does
// (engine/verify settings: recheckRounds, recheckDelayMs): under live sync a key the apps changed
// between its read on the source and its read on the target differs for a moment, until live sync
// applies the change. Each round waits, then compares only the keys still differing (the same
// rules: verify-across comparePage, and a target key the source lacks is an extra); what still
// differs after the last round is a difference.
import { resolveAcross } from '../../engine/cluster/across-dbs.js';
import { type KeyRouter, openRouter } from '../../engine/cluster/router.js';
import { openShardSource } from '../../engine/cluster/shard-nodes.js';
import type { SourceShard } from '../../engine/cluster/shards.js';
import { type AcrossDifference, comparePage } from '../../engine/cluster/verify-across.js';
import type { DbMapping } from '../../engine/db-mapping.js';
import { replyInt } from '../../engine/resp/reply.js';
import type { Endpoint } from '../../redis/endpoint.js';
import { sleepOrAbort } from '../../util/sleep.js';

export interface RecheckOptions {
  source: Endpoint;
  target: Endpoint;
  shard: SourceShard;
  mapping: DbMapping;
  ttlToleranceMs: number;
  signal: AbortSignal;
  rounds?: number;
  delayMs?: number;
}

/** The differences that still differ after the rounds (every one of `differences` is looked at). */
export async function recheckDifferences(
  differences: AcrossDifference[],
  options: RecheckOptions,
): Promise<AcrossDifference[]> {
  if (differences.length === 0) return [];
  const sides = await resolveAcross(options.source, options.target, options.mapping);
  const src = await openShardSource(
    options.source,
    options.shard,
    sides.source.cluster,
    sides.sourceDb,
    'verify-recheck',
  );
  const routers: KeyRouter[] = [];
  try {
    const target = await openRouter(options.target, sides.target, 'verify-recheck-target', sides.targetDb);
    routers.push(target);
    const source = await openRouter(options.source, sides.source, 'verify-recheck-source', sides.sourceDb);
    routers.push(source);
    let left = differences;
    for (let round = 0; round < (options.rounds ?? 3) && left.length > 0; round++) {
      await sleepOrAbort(options.delayMs ?? 1000, options.signal);
      const keys = [...new Map(left.map((d) => [d.key.toString('hex'), d.key])).values()];
      const still: AcrossDifference[] = [];
      await comparePage(keys, src, target, options.ttlToleranceMs, (d) =>
        still.push({ ...d, sourceNode: options.shard.readFrom }),
      );
      // comparePage skips keys gone from the source: those left on the target are extras.
      const [onTarget, onSource] = await Promise.all([
        target.exec(keys.map((key) => ({ key, command: ['PTTL', key] }))),
        source.exec(keys.map((key) => ({ key, command: ['EXISTS', key] }))),
      ]);
      keys.forEach((key, i) => {
        const pttl = replyInt(onTarget[i] ?? null) ?? -2;
        if (pttl === -2 || replyInt(onSource[i] ?? null) !== 0) return;
        if (pttl >= 0 && pttl <= options.ttlToleranceMs) return;
        still.push({
          kind: 'extra',
          key,
          sourceNode: options.shard.readFrom,
          targetNode: target.nodeOf(key),
          detail: 'only on the target',
        });
      });
      left = still;
    }
    return left;
  } finally {
    src.destroy();
    for (const r of routers) await r.close();
  }
}
