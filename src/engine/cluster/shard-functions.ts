// Function libraries of a source loaded on every target primary: run once for a copy, outside the
// shards (each shard only moves keys). The source's primaries must agree on their libraries
// (copy-across-preflight.ts sourceLibraries); each target primary takes them by the copy's policy
// (APPEND, REPLACE, or FLUSH under 'flush'), as the standalone copy does for one server.
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { ExitCode, UserError } from '../../util/errors.js';
import { copyFunctions, type FunctionsOutcome, listLibraries } from '../copy/functions.js';
import type { NonEmptyTargetPolicy } from '../copy/types.js';
import { RespConnection } from '../resp/connection.js';
import { type AcrossNode, sourceLibraries } from './copy-across-preflight.js';
import { keyHolders } from './nodes.js';

export interface TargetFunctionsReport {
  /** Libraries the source holds (0: none, nothing done). */
  libraries: number;
  /** What happened on each target primary (`host:port`). */
  perTargetNode: Record<string, FunctionsOutcome>;
}

export async function loadFunctionsOnTargets(
  source: Endpoint,
  target: Endpoint,
  policy: NonEmptyTargetPolicy,
): Promise<TargetFunctionsReport> {
  const [src, dst] = await Promise.all([keyHolders(source), keyHolders(target)]);
  const open = async (holders: typeof src, role: string): Promise<AcrossNode[]> => {
    const out: AcrossNode[] = [];
    for (const n of holders.nodes) {
      out.push({ address: n.address, conn: await RespConnection.open(n.endpoint, { role, db: 0 }) });
    }
    return out;
  };
  const sources = await open(src, 'functions-source');
  let targets: AcrossNode[] = [];
  try {
    targets = await open(dst, 'functions-target');
    const libraries = await sourceLibraries(sources);
    const report: TargetFunctionsReport = { libraries: libraries?.names.length ?? 0, perTargetNode: {} };
    for (const node of targets) {
      const had = await listLibraries(node.conn);
      if (!libraries && !(policy === 'flush' && (had?.length ?? 0) > 0)) continue;
      const outcome = await copyFunctions(
        libraries?.from.conn ?? sources[0]!.conn,
        node.conn,
        policy,
        libraries?.names ?? [],
        had,
      );
      if (outcome.notCopied) {
        throw new UserError(
          `the function libraries of ${describeEndpoint(source)} cannot be loaded on target node ${node.address}: ${outcome.notCopied}`,
          ExitCode.problem,
        );
      }
      report.perTargetNode[node.address] = outcome;
    }
    return report;
  } finally {
    for (const n of [...sources, ...targets]) n.conn.destroy();
  }
}
