// A first copy across topologies (standalone -> cluster, cluster -> standalone, cluster -> cluster):
// each source primary is scanned on its own (SCAN is node-local), keys are read with pipelined
// DUMP + PTTL, and each is restored where its slot lives on the target (ClusterRouter, following
// MOVED/ASK), pipelined per target node. DUMP payloads only: no big-key chunking, by-type
// fallback, checkpoints, functions or identity checks here: copy-across-run.ts refuses up front
// what this cannot do and loads the functions, and is what `copy` on the command line runs when
// either endpoint is a cluster. The runbook does not use it yet (no live sync across topologies).
import type { Endpoint } from '../../redis/endpoint.js';
import type { Logger } from '../../util/logger.js';
import { RespConnection } from '../resp/connection.js';
import { type RespArg, RespError, replyInt } from '../resp/reply.js';
import { keyHolders } from './nodes.js';
import { ClusterRouter, openRouter, type RedirectCounts } from './router.js';

export interface CopyAcrossOptions {
  /** Source database of a standalone source (a cluster has db 0 only; default: the endpoint's). */
  sourceDb?: number;
  /** Target database of a standalone target (default: the endpoint's). */
  targetDb?: number;
  /** RESTORE ... REPLACE: overwrite keys the target holds (otherwise they fail as BUSYKEY). */
  replace?: boolean;
  /** SCAN COUNT and keys per pipeline (default 500). */
  batchSize?: number;
  match?: string;
  logger?: Logger;
  /** Called after each pipeline of restores, with the keys copied so far (progress; tests). */
  onBatch?: (copied: number) => Promise<void> | void;
}

export interface CopyAcrossReport {
  copied: number;
  /** Keys that were gone between SCAN and DUMP (expired or deleted meanwhile). */
  vanished: number;
  failed: { node: string; key: Buffer; reason: string }[];
  /** Keys copied from each source node (`host:port`). */
  perSourceNode: Record<string, number>;
  /** MOVED / ASK redirects the target answered (a resharding on the target during the copy). */
  redirects: RedirectCounts | null;
}

export async function copyAcrossTopologies(
  source: Endpoint,
  target: Endpoint,
  options: CopyAcrossOptions = {},
): Promise<CopyAcrossReport> {
  const batch = options.batchSize ?? 500;
  const sources = await keyHolders(source);
  const targets = await keyHolders(target);
  const router = await openRouter(target, targets, 'copy-target', options.targetDb);
  const report: CopyAcrossReport = { copied: 0, vanished: 0, failed: [], perSourceNode: {}, redirects: null };
  try {
    for (const node of sources.nodes) {
      const db = sources.cluster ? 0 : (options.sourceDb ?? source.db);
      const conn = await RespConnection.open(node.endpoint, { role: 'copy-source', db });
      report.perSourceNode[node.address] = 0;
      try {
        let cursor = '0';
        do {
          const scan: RespArg[] = ['SCAN', cursor, 'COUNT', batch];
          if (options.match !== undefined) scan.push('MATCH', options.match);
          const [page] = await conn.exec([scan]);
          if (page instanceof RespError || !Array.isArray(page)) {
            throw new Error(`SCAN on ${node.address} failed: ${String(page)}`);
          }
          cursor = String(page[0]);
          const keys = (page[1] as Buffer[]) ?? [];
          if (keys.length === 0) continue;
          const reads = await conn.exec(
            keys.flatMap((k) => [['DUMP', k] as RespArg[], ['PTTL', k] as RespArg[]]),
          );
          const restores: { key: Buffer; command: RespArg[] }[] = [];
          keys.forEach((key, i) => {
            const payload = reads[2 * i];
            const pttl = replyInt(reads[2 * i + 1] ?? null) ?? -2;
            if (payload instanceof RespError) {
              report.failed.push({ node: node.address, key, reason: `DUMP: ${payload.message}` });
              return;
            }
            if (!Buffer.isBuffer(payload) || pttl === -2) {
              report.vanished++;
              return;
            }
            const command: RespArg[] = ['RESTORE', key, Math.max(pttl, 0), payload];
            if (options.replace) command.push('REPLACE');
            restores.push({ key, command });
          });
          const results = await router.exec(restores);
          results.forEach((r, i) => {
            if (r instanceof RespError) {
              report.failed.push({
                node: node.address,
                key: restores[i]!.key,
                reason: `RESTORE: ${r.message}`,
              });
            } else {
              report.copied++;
              report.perSourceNode[node.address]!++;
            }
          });
          await options.onBatch?.(report.copied);
        } while (cursor !== '0');
      } finally {
        conn.destroy();
      }
      options.logger?.info(
        { node: node.address, keys: report.perSourceNode[node.address] },
        'source node copied',
      );
    }
  } finally {
    if (router instanceof ClusterRouter) report.redirects = { ...router.redirects };
    await router.close();
  }
  return report;
}
