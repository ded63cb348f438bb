// A whole copy across topologies, as `copy` runs it when either endpoint is a cluster: the db pair,
// the read-only checks (copy-across-preflight.ts), then the target prepared on every node (flush,
// with one confirmation for all of them), the source's function libraries loaded on every target
// primary, the keys copied shard by shard (shards.ts copyShard: the standalone engine's batches,
// big keys in chunks, by-type fallback, a resharding of either side followed), and a report that
// says complete only when every shard is. No node may restart during the copy (the shards' own
// identity checks, and a last look at every node's run id afterwards).
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { ExitCode, UserError } from '../../util/errors.js';
import { createLogger, type Logger } from '../../util/logger.js';
import { copyFunctions, type FunctionsOutcome } from '../copy/functions.js';
import type { NonEmptyTargetPolicy } from '../copy/types.js';
import type { DbMapping } from '../db-mapping.js';
import { respInfo } from '../identity/guard.js';
import { prepareTarget } from '../restore/prepare-target.js';
import { type AcrossDbs, resolveAcross } from './across-dbs.js';
import type { CopyAcrossReport } from './copy-across.js';
import {
  type AcrossNode,
  checkKeySizes,
  openAcrossNodes,
  sourceLibraries,
  targetStates,
} from './copy-across-preflight.js';
import { keyHolders } from './nodes.js';
import type { RedirectCounts } from './router.js';
import { copyShard } from './shard-copy.js';
import { listSourceShards } from './shard-list.js';

export interface RunCopyAcrossOptions {
  mapping: DbMapping;
  onNonEmptyTarget: NonEmptyTargetPolicy;
  bigKeyThresholdBytes: number;
  batchSize?: number;
  match?: string;
  /** With 'flush': asked once, naming every non-empty target node; false leaves the target as it was. */
  confirmFlush?: (
    nonEmpty: { node: string; keys: number; libraries: string[] }[],
    db: number,
  ) => Promise<boolean>;
  /** After each pipeline of restores; awaited (tests use it to change a side between batches). */
  onProgress?: (p: { copied: number; total: number; elapsedMs: number }) => void | Promise<void>;
  logger?: Logger;
}

export interface CopyAcrossRunReport extends CopyAcrossReport, AcrossDbs {
  complete: boolean;
  /** Why shards did not complete (a node that changed, a stop), one line per shard. */
  incomplete: string[];
  /** Keys the size pass counted on the source before the copy. */
  sourceKeys: number;
  topology: { source: 'cluster' | 'standalone'; target: 'cluster' | 'standalone' };
  sourceNodes: string[];
  targetNodes: string[];
  flushed: { node: string; keys: number }[];
  /** Per target node, what happened to the source's libraries (null: none on either side). */
  functions: { libraries: number; perTargetNode: Record<string, FunctionsOutcome> } | null;
  durationMs: number;
  keysPerSecond: number;
}

export async function runCopyAcross(
  source: Endpoint,
  target: Endpoint,
  options: RunCopyAcrossOptions,
): Promise<CopyAcrossRunReport> {
  const started = Date.now();
  const sides = await resolveAcross(source, target, options.mapping);
  const { source: srcHolders, target: dstHolders } = sides;
  const dbs: AcrossDbs = { sourceDb: sides.sourceDb, targetDb: sides.targetDb };
  const sources = await openAcrossNodes(srcHolders, dbs.sourceDb, 'copy-check');
  let targets: AcrossNode[] = [];
  try {
    targets = await openAcrossNodes(dstHolders, dbs.targetDb, 'copy-prepare');
    const libraries = await sourceLibraries(sources);
    const states = await targetStates(targets, dbs.targetDb, options.onNonEmptyTarget, libraries);
    // Counted for the progress only: big keys are copied in chunks.
    const sourceKeys = await checkKeySizes(sources, {
      thresholdBytes: Number.POSITIVE_INFINITY,
      batchSize: options.batchSize ?? 500,
      ...(options.match !== undefined ? { match: options.match } : {}),
    });

    const before = await Promise.all([runIds(sources), runIds(targets)]);

    // From here on the target is written to.
    const flushed: CopyAcrossRunReport['flushed'] = [];
    if (options.onNonEmptyTarget === 'flush') {
      const nonEmpty = states
        .filter((s) => s.keys > 0 || (s.libraries?.length ?? 0) > 0)
        .map((s) => ({ node: s.address, keys: s.keys, libraries: s.libraries ?? [] }));
      if (
        nonEmpty.length > 0 &&
        options.confirmFlush &&
        !(await options.confirmFlush(nonEmpty, dbs.targetDb))
      ) {
        throw new UserError(
          `not confirmed: the target ${describeEndpoint(target)} was left as it was`,
          ExitCode.problem,
        );
      }
      for (const node of targets) {
        const prepared = await prepareTarget(node.conn, 'flush', [dbs.targetDb]);
        for (const f of prepared.flushed) flushed.push({ node: node.address, keys: f.keys });
      }
    }
    let functions: CopyAcrossRunReport['functions'] = null;
    if (libraries) {
      functions = { libraries: libraries.names.length, perTargetNode: {} };
      for (const [i, node] of targets.entries()) {
        // After a flush the node holds no libraries; otherwise its own decide APPEND or REPLACE.
        const had = options.onNonEmptyTarget === 'flush' ? [] : (states[i]!.libraries ?? []);
        functions.perTargetNode[node.address] = await copyFunctions(
          libraries.from.conn,
          node.conn,
          options.onNonEmptyTarget,
          libraries.names,
          had,
        );
      }
    }

    const copy = await copyShards(source, target, options, sourceKeys, started);
    await checkUnchanged(source, target, before);
    const durationMs = Date.now() - started;
    return {
      ...copy,
      ...dbs,
      complete: copy.failed.length === 0 && copy.incomplete.length === 0,
      sourceKeys,
      topology: {
        source: srcHolders.cluster ? 'cluster' : 'standalone',
        target: dstHolders.cluster ? 'cluster' : 'standalone',
      },
      sourceNodes: srcHolders.nodes.map((n) => n.address),
      targetNodes: dstHolders.nodes.map((n) => n.address),
      flushed,
      functions,
      durationMs,
      keysPerSecond: Math.round(copy.copied / Math.max(durationMs / 1000, 0.001)),
    };
  } finally {
    for (const n of [...sources, ...targets]) n.conn.destroy();
  }
}

/** `run_id` of each node (INFO server): a restarted node has a new one. */
async function runIds(nodes: AcrossNode[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const n of nodes) out[n.address] = /^run_id:(\S+)/m.exec(await respInfo(n.conn)('server'))?.[1] ?? '';
  return out;
}

/**
 * After the copy: the same nodes, not restarted. A source node that restarted may have hidden keys
 * from the scan; a target node that restarted may have lost what it took. Either way the copy is
 * not called done. (A changed slot map is fine: the shards read moved slots again, and the target
 * router follows MOVED.)
 */
async function checkUnchanged(
  source: Endpoint,
  target: Endpoint,
  runIdsBefore: Record<string, string>[],
): Promise<void> {
  const next = 'run `migration-buddy verify` to see what differs, then copy again with --replace';
  for (const [side, endpoint, ids] of [
    ['source', source, runIdsBefore[0]!],
    ['target', target, runIdsBefore[1]!],
  ] as const) {
    const now = await keyHolders(endpoint);
    const nodes = await openAcrossNodes(now, 0, 'copy-check');
    try {
      const after = await runIds(nodes);
      const restarted = Object.keys(ids).filter((a) => after[a] !== ids[a]);
      if (restarted.length > 0) {
        throw new UserError(
          `${side} node(s) ${restarted.join(', ')} restarted during the copy (a new run id), so ` +
            `${side === 'source' ? 'what was copied may not be what the source holds now' : 'keys it took may be lost'} ` +
            `and the copy is not complete: ${next}`,
          ExitCode.problem,
        );
      }
    } finally {
      for (const n of nodes) n.conn.destroy();
    }
  }
}

/** Every shard of the source copied in turn, added up the way the report tells it. */
async function copyShards(
  source: Endpoint,
  target: Endpoint,
  options: RunCopyAcrossOptions,
  sourceKeys: number,
  started: number,
): Promise<CopyAcrossReport & { incomplete: string[] }> {
  const report: CopyAcrossReport & { incomplete: string[] } = {
    copied: 0,
    vanished: 0,
    failed: [],
    perSourceNode: {},
    redirects: null,
    incomplete: [],
  };
  const logger = options.logger ?? createLogger({ level: 'silent' });
  for (const shard of await listSourceShards(source)) {
    const done = report.copied;
    const r = await copyShard({
      source,
      target,
      shard,
      mapping: options.mapping,
      replace: options.onNonEmptyTarget === 'replace',
      logger,
      bigKeyThresholdBytes: options.bigKeyThresholdBytes,
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      ...(options.match !== undefined ? { match: options.match } : {}),
      onProgress: (p) =>
        options.onProgress?.({ copied: done + p.copied, total: sourceKeys, elapsedMs: Date.now() - started }),
    });
    report.copied += r.copied;
    report.vanished += r.vanished;
    report.perSourceNode[shard.readFrom] = r.copied;
    for (const f of r.failed) report.failed.push({ node: shard.readFrom, ...f });
    if (!r.complete && r.incompleteReason && r.failed.length === 0) {
      report.incomplete.push(`shard ${shard.readFrom}: ${r.incompleteReason}`);
    }
    if (r.redirects) report.redirects = addRedirects(report.redirects, r.redirects);
  }
  return report;
}

function addRedirects(a: RedirectCounts | null, b: RedirectCounts): RedirectCounts {
  return a
    ? { moved: a.moved + b.moved, ask: a.ask + b.ask, refreshes: a.refreshes + b.refreshes }
    : { ...b };
}
