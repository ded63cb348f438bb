// Who holds a side's keys for live sync across topologies: the standalone server, or every
// primary of a cluster with the slots it serves (CLUSTER SLOTS, read through the node the
// endpoint names). The layout text is compared during live sync: a failover or a resharding on
// the source changes it, and a slot that moved is followed by no subscriber.
import { nodeAddress, parseClusterSlots } from '../../../probe/cluster-topology.js';
import type { Endpoint } from '../../../redis/endpoint.js';
import { type KeyHolders, keyHolders } from '../../cluster/nodes.js';
import { plain } from '../../cluster/plain-reply.js';
import { RespConnection } from '../../resp/connection.js';
import { RespError } from '../../resp/reply.js';

export interface SideNode {
  address: string;
  endpoint: Endpoint;
  /** Slots this primary serves (a cluster), or null: a standalone server holds every key. */
  slots: Set<number> | null;
}

export interface SideTopology {
  cluster: boolean;
  nodes: SideNode[];
  /** KeyHolders' layout text: equal text, same primaries serving the same slots. */
  layout: string;
  holders: KeyHolders;
}

export async function readSide(endpoint: Endpoint): Promise<SideTopology> {
  const holders = await keyHolders(endpoint);
  if (!holders.cluster) {
    return { cluster: false, layout: '', holders, nodes: holders.nodes.map((n) => ({ ...n, slots: null })) };
  }
  const conn = await RespConnection.open(endpoint, { role: 'topology', db: 0 });
  const slots = new Map<string, Set<number>>();
  try {
    const [reply] = await conn.exec([['CLUSTER', 'SLOTS']]);
    if (reply instanceof RespError) throw new Error(`CLUSTER SLOTS: ${reply.message}`);
    for (const shard of parseClusterSlots(plain(reply ?? null), endpoint.host)) {
      const set = new Set<number>();
      for (const [first, last] of shard.slots) for (let s = first; s <= last; s++) set.add(s);
      slots.set(nodeAddress(shard.primary), set);
    }
  } finally {
    conn.destroy();
  }
  return {
    cluster: true,
    layout: holders.layout,
    holders,
    nodes: holders.nodes.map((n) => ({ ...n, slots: slots.get(n.address) ?? new Set() })),
  };
}
