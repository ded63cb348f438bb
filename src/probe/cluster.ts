// The cluster part of a probe: read the topology through the node the URL names, probe every
// primary on its own (same credentials and TLS), and fold their facts into the cluster-wide
// fields of the ProbeResult (see ClusterProbe for what each total means).
import type { Redis } from 'ioredis';
import { connect, connectionError } from '../redis/connect.js';
import { describeEndpoint, type Endpoint } from '../redis/endpoint.js';
import { nodeEndpoint } from '../redis/node-endpoint.js';
import { UserError } from '../util/errors.js';
import { scrub } from '../util/secrets.js';
import {
  CLUSTER_SLOT_COUNT,
  nodeAddress,
  parseClusterShards,
  parseClusterSlots,
  slotCount,
  type TopologyShard,
} from './cluster-topology.js';
import { versionAtLeast } from './info.js';
import {
  type ClusterNodeFacts,
  type ClusterProbe,
  type DatabaseStats,
  PROBED_COMMANDS,
  type ProbedCommand,
  type ProbeResult,
} from './types.js';

/** Probes one node over an open connection (the standalone probe, injected to avoid a cycle). */
export type NodeProber = (client: Redis, endpoint: Endpoint) => Promise<ProbeResult>;

export async function readTopology(
  client: Redis,
  endpoint: Endpoint,
  version: string,
): Promise<{ shards: TopologyShard[]; from: ClusterProbe['topologyFrom'] }> {
  if (versionAtLeast(version, 7)) {
    try {
      const reply = await client.call('CLUSTER', 'SHARDS');
      return {
        shards: parseClusterShards(reply, endpoint.host, Boolean(endpoint.tls)),
        from: 'CLUSTER SHARDS',
      };
    } catch {
      // Blocked by an ACL or renamed: CLUSTER SLOTS tells the same slot owners.
    }
  }
  try {
    return {
      shards: parseClusterSlots(await client.call('CLUSTER', 'SLOTS'), endpoint.host),
      from: 'CLUSTER SLOTS',
    };
  } catch (err) {
    throw new UserError(
      `${describeEndpoint(endpoint)} is a cluster node, but its topology cannot be read ` +
        `(CLUSTER SHARDS and CLUSTER SLOTS failed: ${scrub((err as Error).message)}): ` +
        'allow the user CLUSTER SLOTS (or CLUSTER SHARDS) so every primary can be found',
    );
  }
}

/**
 * Completes the probe of a cluster node (`viaNode`, already probed) into the probe of the cluster:
 * every primary is connected to and probed. A primary that cannot be reached fails the probe,
 * naming it: a copy that skipped it would miss its keys.
 */
export async function probeCluster(
  client: Redis,
  endpoint: Endpoint,
  viaNode: ProbeResult,
  probeNode: NodeProber,
): Promise<ProbeResult> {
  const { shards, from } = await readTopology(client, endpoint, viaNode.server.version);
  const via = nodeAddress(endpoint);
  const probes: NodeProbe[] = [];
  for (const shard of shards) {
    const address = nodeAddress(shard.primary);
    if (address === via && viaNode.replication.role === 'master') {
      probes.push({ address, probe: viaNode });
      continue;
    }
    const node = nodeEndpoint(endpoint, shard.primary.host, shard.primary.port);
    let conn: Redis;
    try {
      conn = await connect(node, { role: 'probe', maxReconnects: 1 });
    } catch (err) {
      throw new UserError(
        `cannot probe primary ${address} of cluster ${describeEndpoint(endpoint)}: ${scrub((err as Error).message)}. ` +
          "Every primary must be reachable from here, with the endpoint's credentials and TLS settings.",
      );
    }
    conn.options.commandTimeout = client.options.commandTimeout;
    try {
      probes.push({ address, probe: await probeNode(conn, node) });
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw connectionError(node, err as Error);
    } finally {
      conn.disconnect();
    }
  }
  const cluster: ClusterProbe = {
    topologyFrom: from,
    probedVia: via,
    shards: shards.map((s, i) => ({
      slots: s.slots,
      slotCount: slotCount(s.slots),
      primary: {
        id: s.primary.id,
        address: nodeAddress(s.primary),
        ...(s.primary.health ? { health: s.primary.health } : {}),
        facts: nodeFacts(probes[i]!.probe),
      },
      replicas: s.replicas.map((r) => ({
        id: r.id,
        address: nodeAddress(r),
        ...(r.health ? { health: r.health } : {}),
      })),
    })),
    unassignedSlots: CLUSTER_SLOT_COUNT - shards.reduce((n, s) => n + slotCount(s.slots), 0),
  };
  return mergeCluster(viaNode, probes, cluster);
}

function nodeFacts(p: ProbeResult): ClusterNodeFacts {
  const db0 = p.databases.find((d) => d.db === 0);
  const unavailable: Partial<Record<ProbedCommand, string>> = {};
  for (const name of PROBED_COMMANDS) {
    const c = p.commands[name];
    if (!c.available) unavailable[name] = c.reason ?? 'not available';
  }
  return {
    version: p.server.version,
    flavor: p.server.flavor,
    rdbVersion: p.server.rdbVersion,
    keys: db0?.keys ?? 0,
    expires: db0?.expires ?? 0,
    usedBytes: p.memory.usedBytes,
    maxmemoryBytes: p.memory.maxmemoryBytes,
    policy: p.memory.policy,
    notifyKeyspaceEvents: p.notifyKeyspaceEvents,
    protoMaxBulkLen: p.protoMaxBulkLen,
    functionLibraries: p.functionLibraries,
    unavailable,
  };
}

/** A primary's own probe and its address. */
export interface NodeProbe {
  address: string;
  probe: ProbeResult;
}

/** The cluster-wide ProbeResult: sums over primaries, the most restrictive setting where they differ. */
export function mergeCluster(viaNode: ProbeResult, nodes: NodeProbe[], cluster: ClusterProbe): ProbeResult {
  if (nodes.length === 0) {
    // No primary owns a slot (a node not yet joined): nothing to add up, the node speaks for itself.
    return {
      ...viaNode,
      cluster,
      notes: [
        ...viaNode.notes,
        `No primary of this cluster owns a slot (${CLUSTER_SLOT_COUNT} slots unassigned).`,
      ],
    };
  }
  const primaries = nodes.map((n) => n.probe);
  const addressOf = (p: ProbeResult) => nodes.find((n) => n.probe === p)?.address ?? cluster.probedVia;
  const byDb = new Map<number, DatabaseStats>();
  for (const p of primaries) {
    for (const d of p.databases) {
      const sum = byDb.get(d.db) ?? { db: d.db, keys: 0, expires: 0, avgTtlMs: 0 };
      // Average TTL weighted by each node's expiring keys.
      const expires = sum.expires + d.expires;
      sum.avgTtlMs =
        expires > 0 ? Math.round((sum.avgTtlMs * sum.expires + d.avgTtlMs * d.expires) / expires) : 0;
      sum.keys += d.keys;
      sum.expires = expires;
      byDb.set(d.db, sum);
    }
  }
  const databases = [...byDb.values()].sort((a, b) => a.db - b.db);
  const limits = primaries.map((p) => p.memory.maxmemoryBytes);
  const policies = [...new Set(primaries.map((p) => p.memory.policy))];
  const notify = [...new Set(primaries.map((p) => p.notifyKeyspaceEvents))];
  const bulk = primaries.map((p) => p.protoMaxBulkLen);
  const libs = primaries.map((p) => p.functionLibraries).filter((n): n is number => n !== null);
  const commands = { ...viaNode.commands };
  for (const name of PROBED_COMMANDS) {
    const lacking = primaries.find((p) => !p.commands[name].available);
    commands[name] = lacking
      ? {
          ...lacking.commands[name],
          reason: `${addressOf(lacking)}: ${lacking.commands[name].reason ?? 'not available'}`,
        }
      : (primaries[0]?.commands[name] ?? commands[name]);
  }
  const notes = [...viaNode.notes];
  for (const p of primaries) {
    if (p === viaNode) continue;
    for (const note of p.notes) if (!notes.includes(note)) notes.push(`${addressOf(p)}: ${note}`);
  }
  notes.push(
    `Cluster of ${cluster.shards.length} shard${cluster.shards.length === 1 ? '' : 's'} (topology from ${cluster.topologyFrom}): keys and memory are sums over the primaries.`,
  );
  if (cluster.unassignedSlots > 0) {
    notes.push(`${cluster.unassignedSlots} of ${CLUSTER_SLOT_COUNT} slots are not assigned to any primary.`);
  }
  const big = primaries.map((p) => p.bigKeys).filter((b) => b !== undefined);
  const result: ProbeResult = {
    ...viaNode,
    databases,
    totalKeys: databases.reduce((n, d) => n + d.keys, 0),
    totalExpires: databases.reduce((n, d) => n + d.expires, 0),
    memory: {
      usedBytes: primaries.reduce((n, p) => n + p.memory.usedBytes, 0),
      maxmemoryBytes: limits.some((l) => l === null)
        ? null
        : limits.some((l) => l === 0)
          ? 0
          : limits.reduce((n: number, l) => n + (l ?? 0), 0),
      policy:
        policies.length === 1
          ? (policies[0] ?? null)
          : (policies.find((p) => p !== null && p !== 'noeviction') ?? null),
    },
    notifyKeyspaceEvents: notify.length === 1 ? (notify[0] ?? null) : null,
    protoMaxBulkLen: bulk.some((b) => b === null) ? null : Math.min(...(bulk as number[])),
    functionLibraries: libs.length === 0 ? null : Math.max(...libs),
    commands,
    cluster,
    notes,
  };
  if (big.length > 0) {
    result.bigKeys = {
      sampled: big.reduce((n, b) => n + b.sampled, 0),
      keys: big.flatMap((b) => b.keys).sort((a, b) => b.bytes - a.bytes),
    };
  }
  return result;
}
