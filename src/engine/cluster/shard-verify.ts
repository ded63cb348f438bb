// verifyShard (see shards.ts): one source shard against the target, both ways, by the rules of
// the verify across topologies (verify-across.ts comparePage / findExtras: DUMP payloads, values by
// type where they differ, TTLs within the tolerance). Forward: the shard's node is scanned (the
// keys of the shard's slots) and each key looked up on the target node owning its slot. Reverse:
// every target node is scanned for the keys of the shard's slots (all keys for a standalone
// source) and each is looked up on the source. Every difference names the shard and both nodes.
import { RespConnection } from '../resp/connection.js';
import type { RespArg } from '../resp/reply.js';
import { replyText } from '../resp/reply.js';
import { resolveAcross } from './across-dbs.js';
import { type KeyRouter, openRouter } from './router.js';
import { nodeAt, openShardSource } from './shard-nodes.js';
import { keysInSlot } from './shard-run.js';
import type { ShardVerifyOptions, ShardVerifyReport } from './shards.js';
import { keySlot } from './slot.js';
import { movedAway, readSlotOwners, slotSet } from './slot-map.js';
import type { AcrossDifference } from './verify-across.js';
import { comparePage, findExtras } from './verify-across.js';

const DEFAULT_BATCH = 500;
/** Differences kept in the report (the verdict covers them all). */
const MAX_DIFFERENCES = 1000;

export async function verifyShard(
  opts: ShardVerifyOptions & { batchSize?: number; match?: string },
): Promise<ShardVerifyReport> {
  const { shard } = opts;
  const sides = await resolveAcross(opts.source, opts.target, opts.mapping);
  const batch = opts.batchSize ?? DEFAULT_BATCH;
  const mine = slotSet(shard.slots);
  const ours = (key: Buffer) => !sides.source.cluster || mine.has(keySlot(key));
  const report: ShardVerifyReport = { shard: shard.id, checked: 0, differences: [], identical: true };
  const add = (d: AcrossDifference) => {
    report.identical = false;
    if (report.differences.length < MAX_DIFFERENCES) report.differences.push({ ...d, sourceShard: shard.id });
  };
  const routers: KeyRouter[] = [];
  const src = await openShardSource(opts.source, shard, sides.source.cluster, sides.sourceDb, 'verify-shard');
  try {
    const targetRouter = await openRouter(opts.target, sides.target, 'verify-shard-target', sides.targetDb);
    routers.push(targetRouter);
    await eachPage(src, batch, opts.match, opts.signal, async (keys) => {
      const page = keys.filter(ours);
      if (page.length === 0) return;
      report.checked += await comparePage(
        page,
        src,
        targetRouter,
        opts.ttlToleranceMs,
        (d) => add({ ...d, sourceNode: shard.readFrom }),
        // Its slot moved away: compared on the new owner below.
        () => undefined,
      );
      await opts.onProgress?.({
        shard: shard.id,
        scanned: report.checked,
        copied: 0,
        failed: report.differences.length,
        estimatedKeys: null,
      });
    });
    // Slots of the shard that left its node during the scan (a resharding of the source): their
    // keys are compared on the new owner, so none goes unchecked.
    if (sides.source.cluster && !opts.signal?.aborted) {
      const owners = await readSlotOwners(src, opts.source.host);
      for (const [address, slots] of movedAway(mine, owners, shard.primary)) {
        const conn = await RespConnection.open(nodeAt(opts.source, address), {
          role: 'verify-shard-moved',
          db: 0,
        });
        try {
          for (const slot of slots) {
            const keys = await keysInSlot(conn, slot);
            for (let i = 0; i < keys.length; i += batch) {
              report.checked += await comparePage(
                keys.slice(i, i + batch),
                conn,
                targetRouter,
                opts.ttlToleranceMs,
                (d) => add({ ...d, sourceNode: address }),
              );
            }
          }
        } finally {
          conn.destroy();
        }
      }
    }
    if (opts.reverse && !opts.signal?.aborted) {
      const sourceRouter = await openRouter(opts.source, sides.source, 'verify-shard-source', sides.sourceDb);
      routers.push(sourceRouter);
      for (const node of sides.target.nodes) {
        const conn = await RespConnection.open(node.endpoint, {
          role: 'verify-shard-reverse',
          db: sides.targetDb,
        });
        try {
          await eachPage(conn, batch, opts.match, opts.signal, async (keys) => {
            const page = keys.filter(ours);
            if (page.length === 0) return;
            await findExtras(page, conn, sourceRouter, opts.ttlToleranceMs, (d) =>
              add({ ...d, targetNode: node.address }),
            );
          });
        } finally {
          conn.destroy();
        }
      }
    }
  } finally {
    src.destroy();
    for (const r of routers) await r.close();
  }
  report.complete = !opts.signal?.aborted;
  // A verify that did not see every key cannot call the sides identical.
  if (!report.complete) report.identical = false;
  return report;
}

/** SCAN a node page by page; stops between pages when the signal is aborted. */
async function eachPage(
  conn: RespConnection,
  count: number,
  match: string | undefined,
  signal: AbortSignal | undefined,
  visit: (keys: Buffer[]) => Promise<void>,
): Promise<void> {
  let cursor = '0';
  do {
    if (signal?.aborted) return;
    const scan: RespArg[] = ['SCAN', cursor, 'COUNT', count];
    if (match !== undefined) scan.push('MATCH', match);
    const [page] = await conn.exec([scan]);
    if (!Array.isArray(page)) throw new Error(`SCAN failed: ${String(page)}`);
    cursor = replyText(page[0] ?? null) ?? '0';
    const keys = (page[1] as Buffer[]) ?? [];
    if (keys.length > 0) await visit(keys);
  } while (cursor !== '0');
}
