// The copy, verify and live-sync mechanisms read and write one server. Pointed at a Redis Cluster
// node they would see only that node's keys (SCAN is node-local) or restore keys on a node that
// does not own their slot, and could report a partial copy as complete. Until the cluster copy
// exists in the runbook (issue #14) they refuse a cluster node, found from INFO (redis_mode,
// cluster_enabled); `copy` and `verify` on the command line go across topologies instead
// (copy-across-run.ts, verify-across.ts).
import { parseInfo, parseServer } from '../../probe/info.js';
import { UserError } from '../../util/errors.js';

export class ClusterNodeError extends UserError {
  constructor(where: string) {
    super(
      `${where} is a Redis Cluster node: this copy, verify or live sync works on one standalone server and ` +
        "would miss the other nodes' keys or write keys to a node that does not own their slot, so nothing was " +
        'done. `migration-buddy copy` and `verify` on the command line handle clusters; migrations (the ' +
        'runbook) with a cluster come with issue #14, and `migration-buddy plan` already shows what they need',
    );
    this.name = 'ClusterNodeError';
  }
}

/** True when INFO text (the server section, or all of it) is a cluster node's. */
export function isClusterNode(infoText: string): boolean {
  return parseServer(parseInfo(infoText)).mode === 'cluster';
}

/** Throws ClusterNodeError when the server is a cluster node; `where` names it for people. */
export async function refuseClusterNode(
  info: (section: string) => Promise<string>,
  where: string,
): Promise<void> {
  if (isClusterNode(await info('server'))) throw new ClusterNodeError(where);
}
