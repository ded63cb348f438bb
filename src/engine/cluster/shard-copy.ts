// copyShard: one source shard's keys onto the target (see shards.ts). First version: SCAN of the
// shard's node, DUMP + PTTL, RESTORE routed by slot; the full engine replaces it.

import { nodeEndpoint } from '../../redis/node-endpoint.js';
import { RespConnection } from '../resp/connection.js';
import type { RespArg } from '../resp/reply.js';
import { RespError, replyInt } from '../resp/reply.js';
import { resolveAcross } from './across-dbs.js';
import { ClusterRouter, openRouter } from './router.js';
import type { ShardCopyReport, ShardRunOptions } from './shards.js';

export async function copyShard(opts: ShardRunOptions): Promise<ShardCopyReport> {
  const sides = await resolveAcross(opts.source, opts.target, opts.mapping);
  const [host, port] = splitAddress(opts.shard.readFrom);
  const node = sides.source.cluster ? { ...nodeEndpoint(opts.source, host, port), db: 0 } : opts.source;
  const conn = await RespConnection.open(node, { role: 'shard-source', db: sides.sourceDb });
  const router = await openRouter(opts.target, sides.target, 'shard-target', sides.targetDb);
  const report: ShardCopyReport = {
    shard: opts.shard.id,
    copied: 0,
    vanished: 0,
    bigKeys: 0,
    byType: 0,
    failed: [],
    redirects: null,
    complete: false,
  };
  try {
    let cursor = '0';
    do {
      if (opts.signal?.aborted) return { ...report, incompleteReason: 'stopped' };
      const [page] = await conn.exec([['SCAN', cursor, 'COUNT', 500]]);
      if (!Array.isArray(page)) throw new Error(`SCAN on ${opts.shard.readFrom} failed: ${String(page)}`);
      cursor = String(page[0]);
      const keys = (page[1] as Buffer[]) ?? [];
      const reads = await conn.exec(
        keys.flatMap((k) => [['DUMP', k] as RespArg[], ['PTTL', k] as RespArg[]]),
      );
      const restores = keys.flatMap((key, i) => {
        const payload = reads[2 * i];
        const pttl = replyInt(reads[2 * i + 1] ?? null) ?? -2;
        if (!Buffer.isBuffer(payload) || pttl === -2) {
          report.vanished++;
          return [];
        }
        const command: RespArg[] = ['RESTORE', key, Math.max(pttl, 0), payload];
        if (opts.replace) command.push('REPLACE');
        return [{ key, command }];
      });
      const results = await router.exec(restores);
      results.forEach((r, i) => {
        if (r instanceof RespError) report.failed.push({ key: restores[i]!.key, reason: r.message });
        else report.copied++;
      });
    } while (cursor !== '0');
    report.complete = report.failed.length === 0;
  } finally {
    if (router instanceof ClusterRouter) report.redirects = { ...router.redirects };
    await router.close();
    conn.destroy();
  }
  return report;
}

function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), Number(address.slice(colon + 1))];
}
