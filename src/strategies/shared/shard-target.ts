// What a sharded bulk copy does once, before any shard job runs: the payloads must cross, the
// non-empty target policy is applied to every target node (refuse names each non-empty node,
// flush empties each), and the source's function libraries are loaded on every target primary
// (loadFunctionsOnTargets).
// The shards then restore with REPLACE, so a resumed batch overwrites only its own copy.

import { resolveAcross } from '../../engine/cluster/across-dbs.js';
import {
  type AcrossNode,
  checkPayloadsCross,
  openAcrossNodes,
  sourceLibraries,
  targetStates,
} from '../../engine/cluster/copy-across-preflight.js';
import { loadFunctionsOnTargets } from '../../engine/cluster/shard-functions.js';
import type { NonEmptyTargetPolicy } from '../../engine/copy/types.js';
import { prepareTarget } from '../../engine/restore/prepare-target.js';
import type { Endpoint } from '../../redis/endpoint.js';
import { UnrecoverableStepError } from '../../runbook/errors.js';
import { errorMessage, UserError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { mappingFromParams } from './shard-task.js';

export async function prepareShardedTarget(
  endpoints: { source: Endpoint; target: Endpoint },
  params: Record<string, unknown>,
  logger: Logger,
): Promise<void> {
  const policy = (params.onNonEmptyTarget as NonEmptyTargetPolicy | undefined) ?? 'refuse';
  let sources: AcrossNode[] = [];
  let targets: AcrossNode[] = [];
  try {
    const sides = await resolveAcross(endpoints.source, endpoints.target, mappingFromParams(params));
    sources = await openAcrossNodes(sides.source, sides.sourceDb, 'shard-prepare');
    targets = await openAcrossNodes(sides.target, sides.targetDb, 'shard-prepare');
    await checkPayloadsCross(sources, targets);
    const libraries = params.functions === null ? null : await sourceLibraries(sources);
    await targetStates(targets, sides.targetDb, policy, libraries);
    if (policy === 'flush') {
      for (const node of targets) await prepareTarget(node.conn, 'flush', [sides.targetDb]);
    }
    // Loaded after the flush, so a flushed node takes exactly the source's libraries.
    if (libraries) {
      const loaded = await loadFunctionsOnTargets(endpoints.source, endpoints.target, policy);
      logger.info(
        { libraries: loaded.libraries, nodes: targets.length },
        'functions loaded on every target primary',
      );
    }
  } catch (err) {
    // The target's state and the payloads do not change by retrying.
    if (err instanceof UserError) throw new UnrecoverableStepError(errorMessage(err));
    throw err;
  } finally {
    for (const n of [...sources, ...targets]) n.conn.destroy();
  }
}
