// The follower's connections to the source: the one server, or every primary of a source
// cluster (each notifies only its own keys' changes and must be paused on its own). The first is
// the admin connection (identity, TIME of the pause, the notify-keyspace-events record); the write
// pause, the notification setting and the drain check go to all of them.
import type { Redis } from 'ioredis';
import { keyHolders } from '../../engine/cluster/nodes.js';
import type { PausedNode } from '../../engine/cutover/index.js';
import { nodeAddress } from '../../probe/cluster-topology.js';
import { connect } from '../../redis/connect.js';
import type { Endpoint } from '../../redis/endpoint.js';

export interface SourceNodes {
  /** The server, or the cluster's first primary. */
  admin: Redis;
  /** Every node holding the source's keys, each on its own connection (admin's first). */
  all: PausedNode[];
  /** The source is a cluster: its nodes' identities are read as cluster nodes'. */
  cluster: boolean;
  disconnect(): void;
}

export async function openSourceNodes(
  source: Endpoint,
  options: { role: string; maxReconnects: number },
): Promise<SourceNodes> {
  const holders = await keyHolders(source);
  const all: PausedNode[] = [];
  try {
    if (!holders.cluster) {
      all.push({ address: nodeAddress(source), conn: await connect(source, options) });
    } else {
      for (const node of holders.nodes) {
        all.push({ address: node.address, conn: await connect(node.endpoint, options) });
      }
    }
  } catch (err) {
    for (const n of all) n.conn.disconnect();
    throw err;
  }
  return {
    admin: all[0]!.conn,
    all,
    cluster: holders.cluster,
    disconnect: () => {
      for (const n of all) n.conn.disconnect();
    },
  };
}
