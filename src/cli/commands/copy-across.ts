// `copy` when either endpoint is a Redis Cluster: the cross-topology engine (engine/cluster/
// copy-across-run.ts) with the command's rules (non-empty target, progress, summary, --json, exit
// codes). Options whose machinery is not built across topologies are refused before anything runs.

import { type CopyAcrossRunReport, runCopyAcross } from '../../engine/cluster/copy-across-run.js';
import { DEFAULT_BIG_KEY_THRESHOLD } from '../../engine/copy/index.js';
import type { DbMapping } from '../../engine/db-mapping.js';
import { printableKey } from '../../probe/printable-key.js';
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { ExitCode, UserError } from '../../util/errors.js';
import type { CliContext } from '../context.js';
import { parseBytes } from '../options/values.js';
import { fmtInt, type ProgressMode, progressRendererFor } from '../progress.js';

export interface CopyAcrossCliOptions {
  match?: string;
  replace?: boolean;
  flushTarget?: boolean;
  yes?: boolean;
  byType?: boolean;
  bigKeyThreshold?: string;
  checkpoint?: string;
  batchSize?: number | undefined;
  progress?: ProgressMode;
}

export type AskFlush = (
  target: string,
  nonEmpty: { db: number; keys: number }[],
  libraries: string[],
) => Promise<boolean>;

/** Refusals of what the cross-topology copy cannot do; before any server is touched. */
function refuseUnsupported(opts: CopyAcrossCliOptions): void {
  if (opts.checkpoint) {
    throw new UserError(
      '--checkpoint is not built for a copy to or from a Redis Cluster yet (per-shard checkpoints come with ' +
        'issue #14): run the copy without it (a new run starts over; with --replace it overwrites what a ' +
        'stopped run copied)',
    );
  }
  if (opts.byType) {
    throw new UserError(
      '--by-type is not built for a copy to or from a Redis Cluster yet: the cluster copy moves DUMP payloads. ' +
        'Run without --by-type (the copy refuses up front a target that cannot take the payloads)',
    );
  }
}

export async function runCopyAcrossCli(
  ctx: CliContext,
  source: Endpoint,
  target: Endpoint,
  mapping: DbMapping,
  opts: CopyAcrossCliOptions,
  askFlush: AskFlush,
): Promise<number> {
  refuseUnsupported(opts);
  const renderer = progressRendererFor(opts.progress);
  let report: CopyAcrossRunReport;
  try {
    report = await runCopyAcross(source, target, {
      mapping,
      onNonEmptyTarget: opts.replace ? 'replace' : opts.flushTarget ? 'flush' : 'refuse',
      bigKeyThresholdBytes: opts.bigKeyThreshold
        ? parseBytes(opts.bigKeyThreshold, '--big-key-threshold')
        : DEFAULT_BIG_KEY_THRESHOLD,
      ...(opts.batchSize ? { batchSize: opts.batchSize } : {}),
      ...(opts.match ? { match: opts.match } : {}),
      ...(opts.flushTarget && !opts.yes
        ? {
            confirmFlush: (nonEmpty, db) =>
              askFlush(
                `${describeEndpoint(target)} (nodes ${nonEmpty.map((n) => n.node).join(', ')})`,
                [{ db, keys: nonEmpty.reduce((sum, n) => sum + n.keys, 0) }],
                [...new Set(nonEmpty.flatMap((n) => n.libraries))].sort(),
              ),
          }
        : {}),
      onProgress: (p) => {
        const seconds = p.elapsedMs / 1000;
        const rate = seconds > 0 ? p.copied / seconds : 0;
        renderer.update({
          phase: 'keys',
          done: p.copied,
          total: p.total,
          rate,
          etaSeconds: rate > 0 ? Math.max(p.total - p.copied, 0) / rate : null,
          data: { keysCopied: p.copied, elapsedMs: p.elapsedMs },
        });
      },
    });
  } finally {
    renderer.finish();
  }
  if (ctx.json) ctx.printJson({ event: 'report', ...acrossJson(report) });
  else ctx.print(acrossSummary(report, describeEndpoint(source), describeEndpoint(target)));
  if (!report.complete) {
    for (const why of report.incomplete) ctx.note(why);
    ctx.note(
      report.failed.length > 0
        ? `${fmtInt(report.failed.length)} keys were not copied (listed above): the copy is incomplete. Fix what ` +
            'their errors say, then copy again with --replace'
        : 'the copy is incomplete (see above): copy again with --replace',
    );
    return ExitCode.problem;
  }
  return ExitCode.ok;
}

function acrossJson(r: CopyAcrossRunReport): Record<string, unknown> {
  return { ...r, failed: r.failed.map((f) => ({ ...f, key: printableKey(f.key) })) };
}

export function acrossSummary(r: CopyAcrossRunReport, source: string, target: string): string {
  const lines = [
    `${r.complete ? 'copied' : 'partly copied'} ${fmtInt(r.copied)} keys from ${source} (${r.topology.source}) ` +
      `to ${target} (${r.topology.target}) in ${(r.durationMs / 1000).toFixed(1)} s (${fmtInt(r.keysPerSecond)} keys/s)`,
    `  databases: db${r.sourceDb} -> db${r.targetDb}`,
    `  skipped (expired or deleted during the copy): ${fmtInt(r.vanished)}; failed: ${fmtInt(r.failed.length)}`,
    '  per source node:',
    ...Object.entries(r.perSourceNode).map(([node, keys]) => `    ${node}: ${fmtInt(keys)} keys`),
    `  target nodes: ${r.targetNodes.join(', ')}`,
  ];
  for (const f of r.flushed) lines.push(`  flushed first: ${f.node} (${fmtInt(f.keys)} keys)`);
  if (r.redirects && (r.redirects.moved > 0 || r.redirects.ask > 0)) {
    lines.push(
      `  target redirects followed: ${fmtInt(r.redirects.moved)} MOVED, ${fmtInt(r.redirects.ask)} ASK ` +
        '(a resharding on the target during the copy)',
    );
  }
  if (r.functions) {
    lines.push(`  functions: ${r.functions.libraries} libraries`);
    for (const [node, f] of Object.entries(r.functions.perTargetNode)) lines.push(`    ${node}: ${f.action}`);
  }
  if (r.failed.length > 0) {
    lines.push('  errors:');
    for (const f of r.failed.slice(0, 20))
      lines.push(`    ${printableKey(f.key)} (from ${f.node}): ${f.reason}`);
    if (r.failed.length > 20) lines.push(`    ... and ${fmtInt(r.failed.length - 20)} more`);
  }
  return lines.join('\n');
}
