// Which servers hold an endpoint's keys: the endpoint itself for a standalone server, every
// primary (from CLUSTER SLOTS) for a cluster node. Read once through the node the endpoint names.
import { nodeAddress, parseClusterSlots } from '../../probe/cluster-topology.js';
import type { Endpoint } from '../../redis/endpoint.js';
import { describeEndpoint } from '../../redis/endpoint.js';
import { nodeEndpoint } from '../../redis/node-endpoint.js';
import { UserError } from '../../util/errors.js';
import { respInfo } from '../identity/guard.js';
import { RespConnection } from '../resp/connection.js';
import { RespError } from '../resp/reply.js';
import { plain } from './plain-reply.js';
import { isClusterNode } from './standalone-only.js';

export interface KeyHolders {
  cluster: boolean;
  /** The primaries (a cluster) or the endpoint itself; each with its `host:port`. */
  nodes: { address: string; endpoint: Endpoint }[];
  /** Which primary serves which slots, as text ('' for a standalone server): equal text, same layout. */
  layout: string;
}

export async function keyHolders(endpoint: Endpoint): Promise<KeyHolders> {
  const conn = await RespConnection.open(endpoint, { role: 'topology' });
  try {
    if (!isClusterNode(await respInfo(conn)('server'))) {
      return { cluster: false, nodes: [{ address: nodeAddress(endpoint), endpoint }], layout: '' };
    }
    const [reply] = await conn.exec([['CLUSTER', 'SLOTS']]);
    if (reply instanceof RespError) {
      throw new UserError(
        `cannot read the slot map of cluster ${describeEndpoint(endpoint)} (CLUSTER SLOTS: ${reply.message}): allow the user CLUSTER SLOTS`,
      );
    }
    const shards = parseClusterSlots(plain(reply ?? null), endpoint.host);
    return {
      cluster: true,
      layout: shards
        .map((s) => `${nodeAddress(s.primary)}=${s.slots.map(([a, b]) => `${a}-${b}`).join(',')}`)
        .sort()
        .join(' '),
      nodes: shards.map((s) => ({
        address: nodeAddress(s.primary),
        endpoint: { ...nodeEndpoint(endpoint, s.primary.host, s.primary.port), db: 0 },
      })),
    };
  } finally {
    conn.destroy();
  }
}

/** Whether either endpoint names a cluster node: then copy and verify go across topologies. */
export async function eitherIsCluster(a: Endpoint, b: Endpoint): Promise<boolean> {
  const holders = await Promise.all([keyHolders(a), keyHolders(b)]);
  return holders.some((h) => h.cluster);
}
