// Facts about a probed endpoint that a cluster spreads over its primaries: each primary's own
// facts, the range of RDB formats, and how much of a copy lands on each target shard. Pure, over
// ProbeResult only (the planner's rules are in ./topology.ts).
import { CLUSTER_SLOT_COUNT, formatSlotRanges } from '../probe/cluster-topology.js';
import type { ClusterNodeFacts, ClusterShard, ProbeResult } from '../probe/types.js';

/** A Redis Cluster endpoint (by its mode: a stored probe from before topologies has no `cluster`). */
export function isClusterProbe(probe: ProbeResult): boolean {
  return probe.server.mode === 'cluster' || probe.cluster !== undefined;
}

export interface PrimaryFacts extends ClusterNodeFacts {
  address: string;
}

/** Every primary's facts (a cluster), or none (a standalone server: its top-level facts are its own). */
export function primaries(probe: ProbeResult): PrimaryFacts[] {
  return (probe.cluster?.shards ?? []).map((s) => ({ address: s.primary.address, ...s.primary.facts }));
}

/** The oldest and newest RDB format among the primaries (the server's own for a standalone one). */
export function rdbRange(probe: ProbeResult): { min: number; max: number } {
  const versions = primaries(probe).map((p) => p.rdbVersion);
  if (versions.length === 0) return { min: probe.server.rdbVersion, max: probe.server.rdbVersion };
  return { min: Math.min(...versions), max: Math.max(...versions) };
}

/** Number of slots two lists of inclusive ranges have in common. */
export function slotOverlap(a: readonly [number, number][], b: readonly [number, number][]): number {
  let n = 0;
  for (const [a0, a1] of a) {
    for (const [b0, b1] of b) {
      const lo = Math.max(a0, b0);
      const hi = Math.min(a1, b1);
      if (hi >= lo) n += hi - lo + 1;
    }
  }
  return n;
}

export interface ShardLoad {
  shard: ClusterShard;
  /** Estimated keys and bytes of the copy that hash to this shard's slots. */
  keys: number;
  bytes: number;
}

/**
 * How much of the copy each target shard receives, estimated from the probes: a standalone
 * source's keys and memory (`copy`, already narrowed to the selected databases) spread evenly over
 * the 16384 slots; a cluster source's per shard, spread evenly over that shard's slots. Real keys
 * hash unevenly (hash tags put many on one slot), so this is an estimate.
 */
export function targetShardLoads(
  source: ProbeResult,
  target: ProbeResult,
  copy: { keys: number; bytes: number },
): ShardLoad[] {
  const sourceShards = source.cluster?.shards;
  return (target.cluster?.shards ?? []).map((shard) => {
    if (!sourceShards) {
      const share = shard.slotCount / CLUSTER_SLOT_COUNT;
      return { shard, keys: Math.round(copy.keys * share), bytes: Math.round(copy.bytes * share) };
    }
    // A cluster has only db 0, so the copy is the whole source, narrowed only by --match.
    const scale = source.totalKeys > 0 ? Math.min(1, copy.keys / source.totalKeys) : 1;
    let keys = 0;
    let bytes = 0;
    for (const s of sourceShards) {
      const share = s.slotCount > 0 ? slotOverlap(s.slots, shard.slots) / s.slotCount : 0;
      keys += s.primary.facts.keys * share * scale;
      bytes += s.primary.facts.usedBytes * share * scale;
    }
    return { shard, keys: Math.round(keys), bytes: Math.round(bytes) };
  });
}

/** "10.0.0.5:7001 (slots 0-5460)" */
export function describeShard(shard: ClusterShard): string {
  return `${shard.primary.address} (slots ${formatSlotRanges(shard.slots)})`;
}

/**
 * Values of one per-node fact that differ between the primaries, each with the nodes that have
 * it: "7.0.15 on 10.0.0.1:7001, 10.0.0.2:7002; 7.2.4 on 10.0.0.3:7003". Null when they agree.
 */
export function differing(probe: ProbeResult, fact: (p: PrimaryFacts) => string): string | null {
  const byValue = new Map<string, string[]>();
  for (const p of primaries(probe)) {
    const value = fact(p);
    byValue.set(value, [...(byValue.get(value) ?? []), p.address]);
  }
  if (byValue.size < 2) return null;
  return [...byValue].map(([value, nodes]) => `${value} on ${nodes.join(', ')}`).join('; ');
}

/** Node addresses and ids of a cluster (empty for a standalone server). */
export function clusterNodes(probe: ProbeResult): Set<string> {
  const out = new Set<string>();
  for (const s of probe.cluster?.shards ?? []) {
    for (const n of [s.primary, ...s.replicas]) {
      out.add(n.address);
      if (n.id) out.add(`id:${n.id}`);
    }
  }
  return out;
}
