// `verify` when either endpoint is a Redis Cluster: the cross-topology verify (engine/cluster/
// verify-across.ts) with the command's report, --json and exit codes (0 identical, 1 different).
// Options whose machinery is not built across topologies are refused before anything is read.
import { resolveAcross } from '../../engine/cluster/across-dbs.js';
import {
  type AcrossDifferenceKind,
  type VerifyAcrossReport,
  verifyAcrossTopologies,
} from '../../engine/cluster/verify-across.js';
import type { DbMapping } from '../../engine/db-mapping.js';
import { printableKey } from '../../probe/printable-key.js';
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { ExitCode, UserError } from '../../util/errors.js';
import type { CliContext } from '../context.js';
import { fmtInt, type ProgressMode, progressRendererFor } from '../progress.js';

export interface VerifyAcrossCliOptions {
  match?: string;
  ttlToleranceMs: number;
  /** Differences listed per kind (default 10; --examples). */
  samples?: number;
  progress?: ProgressMode;
  /** Options the cross-topology verify has no machinery for, by flag: refused when given. */
  unsupported: string[];
}

const KINDS: AcrossDifferenceKind[] = ['missing', 'extra', 'type', 'value', 'ttl'];

export async function runVerifyAcrossCli(
  ctx: CliContext,
  source: Endpoint,
  target: Endpoint,
  mapping: DbMapping,
  opts: VerifyAcrossCliOptions,
): Promise<number> {
  if (opts.unsupported.length > 0) {
    throw new UserError(
      `${opts.unsupported.join(', ')} ${opts.unsupported.length === 1 ? 'is' : 'are'} not built for a verify ` +
        'to or from a Redis Cluster yet (it compares every key, by DUMP payload and by type where payloads ' +
        'differ, each value read whole): run without it',
    );
  }
  const sides = await resolveAcross(source, target, mapping);
  const dbs = { sourceDb: sides.sourceDb, targetDb: sides.targetDb };
  const renderer = progressRendererFor(opts.progress);
  const started = Date.now();
  let report: VerifyAcrossReport;
  try {
    report = await verifyAcrossTopologies(source, target, {
      ...dbs,
      ttlToleranceMs: opts.ttlToleranceMs,
      ...(opts.match ? { match: opts.match } : {}),
      onProgress: (compared) => {
        const seconds = (Date.now() - started) / 1000;
        renderer.update({
          phase: 'compare',
          done: compared,
          total: 0,
          rate: seconds > 0 ? compared / seconds : 0,
          etaSeconds: null,
        });
      },
    });
  } finally {
    renderer.finish();
  }
  const durationMs = Date.now() - started;
  const topology = {
    source: sides.source.cluster ? 'cluster' : 'standalone',
    target: sides.target.cluster ? 'cluster' : 'standalone',
  };
  if (ctx.json) {
    ctx.printJson({
      event: 'report',
      ...report,
      ...dbs,
      topology,
      durationMs,
      differences: report.differences.map((d) => ({ ...d, key: printableKey(d.key) })),
    });
  } else {
    ctx.print(
      formatAcross(report, {
        source: `${describeEndpoint(source)} (${topology.source}, db${dbs.sourceDb})`,
        target: `${describeEndpoint(target)} (${topology.target}, db${dbs.targetDb})`,
        durationMs,
        samples: opts.samples ?? 10,
      }),
    );
  }
  return report.identical ? ExitCode.ok : ExitCode.problem;
}

function formatAcross(
  r: VerifyAcrossReport,
  how: { source: string; target: string; durationMs: number; samples: number },
): string {
  const compared = Object.values(r.compared).reduce((a, b) => a + b, 0);
  const differing = KINDS.reduce((sum, k) => sum + r.counts[k], 0);
  const lines = [
    r.identical
      ? `IDENTICAL: ${how.target} matches ${how.source}`
      : `DIFFERENT: ${fmtInt(differing)} keys differ between ${how.source} and ${how.target}`,
    `  ${fmtInt(compared)} source keys compared in ${(how.durationMs / 1000).toFixed(1)} s, both ways`,
    '  source keys compared per node:',
    ...Object.entries(r.compared).map(([node, n]) => `    ${node}: ${fmtInt(n)}`),
    '',
    ...KINDS.map((k) => `  ${k.padEnd(14)}${fmtInt(r.counts[k]).padStart(10)}`),
  ];
  for (const kind of KINDS) {
    if (r.counts[kind] === 0) continue;
    const listed = r.differences.filter((d) => d.kind === kind).slice(0, how.samples);
    lines.push(
      '',
      `  ${kind} (${fmtInt(r.counts[kind])}${listed.length < r.counts[kind] ? `, first ${listed.length} shown` : ''}):`,
    );
    for (const d of listed) {
      lines.push(
        `    ${printableKey(d.key)} (source node ${d.sourceNode}, target node ${d.targetNode}): ${d.detail}`,
      );
    }
  }
  return lines.join('\n');
}
