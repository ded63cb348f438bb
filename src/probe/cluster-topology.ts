// A cluster's topology from CLUSTER SHARDS (Redis 7+) or, on older servers, CLUSTER SLOTS: which
// primary owns which slot ranges, and its replicas. Pure functions over the RESP2 replies ioredis
// returns, unit-tested on captured replies.

/** A node as the topology names it, before it is probed. */
export interface TopologyNode {
  id: string;
  host: string;
  port: number;
  health?: string;
}

export interface TopologyShard {
  slots: [number, number][];
  primary: TopologyNode;
  replicas: TopologyNode[];
}

export const CLUSTER_SLOT_COUNT = 16384;

export function slotCount(slots: readonly [number, number][]): number {
  return slots.reduce((n, [first, last]) => n + last - first + 1, 0);
}

function fieldMap(flat: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}

/**
 * The host to connect to: the announced endpoint, else the IP; '' or '?' (unknown, e.g. a node
 * announcing nothing) means the host the probe reached the cluster through.
 */
function hostOf(candidates: unknown[], fallbackHost: string): string {
  for (const c of candidates) {
    const text = c === undefined || c === null ? '' : String(c);
    if (text !== '' && text !== '?') return text;
  }
  return fallbackHost;
}

/** CLUSTER SHARDS reply -> shards that own slots, in slot order. `tls`: use each node's tls-port. */
export function parseClusterShards(reply: unknown, fallbackHost: string, tls: boolean): TopologyShard[] {
  const out: TopologyShard[] = [];
  for (const entry of Array.isArray(reply) ? reply : []) {
    const shard = fieldMap(entry);
    const flat = (Array.isArray(shard['slots']) ? shard['slots'] : []).map(Number);
    const slots: [number, number][] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) slots.push([flat[i]!, flat[i + 1]!]);
    if (slots.length === 0) continue;
    const nodes = (Array.isArray(shard['nodes']) ? shard['nodes'] : []).map((n) => {
      const f = fieldMap(n);
      const port = tls && f['tls-port'] !== undefined ? f['tls-port'] : f['port'];
      const node: TopologyNode = {
        id: String(f['id'] ?? ''),
        host: hostOf([f['endpoint'], f['ip']], fallbackHost),
        port: Number(port),
      };
      if (f['health'] !== undefined) node.health = String(f['health']);
      return { node, role: String(f['role'] ?? '') };
    });
    // During a failover the old primary may still be listed as a failed master.
    const masters = nodes.filter((n) => n.role === 'master');
    const primary = masters.find((n) => n.node.health !== 'fail' && n.node.health !== 'failed') ?? masters[0];
    if (!primary) continue;
    out.push({
      slots: slots.sort((a, b) => a[0] - b[0]),
      primary: primary.node,
      replicas: nodes.filter((n) => n !== primary && n.role !== 'master').map((n) => n.node),
    });
  }
  return out.sort((a, b) => a.slots[0]![0] - b.slots[0]![0]);
}

/** CLUSTER SLOTS reply -> shards (ranges grouped by primary), in slot order. */
export function parseClusterSlots(reply: unknown, fallbackHost: string): TopologyShard[] {
  const byPrimary = new Map<string, TopologyShard>();
  for (const entry of Array.isArray(reply) ? reply : []) {
    if (!Array.isArray(entry) || entry.length < 3) continue;
    const [first, last, primaryRef, ...replicaRefs] = entry as [unknown, unknown, unknown[], ...unknown[][]];
    const node = (ref: unknown[]): TopologyNode => ({
      id: ref[2] === undefined ? '' : String(ref[2]),
      host: hostOf([ref[0]], fallbackHost),
      port: Number(ref[1]),
    });
    const primary = node(primaryRef);
    const key = primary.id || `${primary.host}:${primary.port}`;
    let shard = byPrimary.get(key);
    if (!shard) {
      shard = { slots: [], primary, replicas: replicaRefs.map(node) };
      byPrimary.set(key, shard);
    }
    shard.slots.push([Number(first), Number(last)]);
  }
  const shards = [...byPrimary.values()];
  for (const s of shards) s.slots.sort((a, b) => a[0] - b[0]);
  return shards.sort((a, b) => a.slots[0]![0] - b.slots[0]![0]);
}

/** `host:port`, with IPv6 hosts in brackets. */
export function nodeAddress(node: Pick<TopologyNode, 'host' | 'port'>): string {
  return node.host.includes(':') ? `[${node.host}]:${node.port}` : `${node.host}:${node.port}`;
}

/** "0-5460", "0-100, 200-300" */
export function formatSlotRanges(slots: readonly [number, number][]): string {
  return slots.map(([a, b]) => (a === b ? String(a) : `${a}-${b}`)).join(', ');
}
