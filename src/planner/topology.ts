// The planner's Redis Cluster rules: which strategies a cluster on either side allows, and what
// stops or needs attention in a standalone -> cluster, cluster -> standalone or cluster -> cluster
// plan (only db 0 in a cluster, capacity per target shard, nodes that disagree, one cluster on
// both sides, slots nobody owns).
import {
  clusterNodes,
  describeShard,
  differing,
  isClusterProbe,
  type PrimaryFacts,
  targetShardLoads,
} from './cluster-facts.js';
import type { PlanContext, Side } from './context.js';
import type { Finding, StrategyName } from './types.js';
import { formatDbs, formatMib, plural } from './units.js';

const isCluster = (ctx: PlanContext, side: Side) => isClusterProbe(ctx[side]);

/** Why a cluster on either side rules this strategy out (empty when it does not). */
export function clusterReasons(ctx: PlanContext, strategy: StrategyName): string[] {
  const out: string[] = [];
  if (strategy === 'replication') {
    if (isCluster(ctx, 'source')) {
      out.push(
        'source is a Redis Cluster: a replica of one node receives only that primary’s slots, so REPLICAOF cannot copy the cluster',
      );
    }
    if (isCluster(ctx, 'target')) {
      out.push(
        'target is a Redis Cluster: its nodes refuse REPLICAOF (cluster mode replicates only within the cluster)',
      );
    }
  }
  // dump-restore routes every key to the node that owns its slot (copy, live sync on every source
  // primary, the write pause on each). MIGRATE would be sent by each source primary to the target
  // node owning the slot; its executors move keys between two servers only, so it is ruled out.
  if (strategy === 'migrate' && (isCluster(ctx, 'source') || isCluster(ctx, 'target'))) {
    out.push(
      'a Redis Cluster on either side: the MIGRATE executors move keys between two servers only and are not ' +
        'built for clusters yet (dump-restore is: it routes every key to the node owning its slot)',
    );
  }
  return out;
}

export function clusterBlockers(ctx: PlanContext): Finding[] {
  return [
    ...sameCluster(ctx),
    ...unassigned(ctx),
    ...onlyDbZero(ctx),
    ...shardCapacity(ctx),
    ...sourceFunctionsDiffer(ctx),
  ];
}

export function clusterWarnings(ctx: PlanContext): Finding[] {
  const out: Finding[] = [];
  for (const side of ['source', 'target'] as const) {
    const facts: [string, string, (p: PrimaryFacts) => string, string][] = [
      [
        'versions',
        'version',
        (p) => `${p.flavor} ${p.version}`,
        'upgrade them to one version before migrating',
      ],
      [
        'maxmemory-policy',
        'policy',
        (p) => p.policy ?? 'unknown',
        'set one policy (noeviction on a target) on every primary',
      ],
      [
        'notify-keyspace-events',
        'notify',
        (p) => (p.notifyKeyspaceEvents === null ? 'unknown' : `"${p.notifyKeyspaceEvents}"`),
        'live sync sets and restores it on each primary',
      ],
    ];
    for (const [what, code, fact, advice] of facts) {
      if (side === 'target' && code === 'notify') continue;
      const diff = differing(ctx[side], fact);
      if (diff) {
        out.push({
          code: `cluster-${side}-${code}-differs`,
          message: `${side} cluster primaries differ in ${what}: ${diff}; ${advice}`,
        });
      }
    }
    const libs =
      side === 'target' ? differing(ctx.target, (p) => String(p.functionLibraries ?? 'none')) : null;
    if (libs) {
      out.push({
        code: 'cluster-target-functions-differ',
        message: `target cluster primaries hold different numbers of function libraries: ${libs}`,
      });
    }
  }
  out.push(...shardCapacityWarnings(ctx));
  if (isCluster(ctx, 'target')) {
    out.push({
      code: 'cluster-target-same-slot',
      message:
        'the target is a Redis Cluster: apps that send multi-key commands, MULTI/EXEC or scripts over keys in ' +
        'different slots get CROSSSLOT errors there; check that such keys share a hash tag ({...}) before the cutover',
    });
  }
  return out;
}

function sameCluster(ctx: PlanContext): Finding[] {
  const source = clusterNodes(ctx.source);
  const shared = [...clusterNodes(ctx.target)].find((n) => source.has(n));
  if (!shared) return [];
  return [
    {
      code: 'same-endpoint',
      message: `source and target are nodes of the same cluster (${shared.replace(/^id:/, 'node id ')} is in both): pick two different clusters`,
    },
  ];
}

function unassigned(ctx: PlanContext): Finding[] {
  const out: Finding[] = [];
  for (const side of ['source', 'target'] as const) {
    if (isCluster(ctx, side) && !ctx[side].cluster) {
      out.push({
        code: 'cluster-topology-unknown',
        message: `${side} is a Redis Cluster but its probe has no topology (shards and slots): probe it again and plan again`,
      });
      continue;
    }
    const n = ctx[side].cluster?.unassignedSlots ?? 0;
    if (n > 0) {
      out.push({
        code: 'cluster-slots-unassigned',
        message:
          `${side} cluster has ${plural(n, 'slot')} of 16384 that no primary owns: ` +
          `${side === 'target' ? 'keys hashing to them cannot be written' : 'its keyspace is incomplete'}; ` +
          'assign them (CLUSTER ADDSLOTS, or redis-cli --cluster fix) and plan again',
      });
    }
  }
  return out;
}

/** A cluster has only db 0: a standalone source's databases must all land in db 0. */
function onlyDbZero(ctx: PlanContext): Finding[] {
  if (!isCluster(ctx, 'target') || isCluster(ctx, 'source')) return [];
  const elsewhere = ctx.dbs.filter((_, i) => ctx.targetDbs[i] !== 0);
  if (elsewhere.length === 0) return [];
  const keys = elsewhere.map((db) => {
    const n = ctx.source.databases.find((d) => d.db === db)?.keys ?? 0;
    return `db ${db}: ${plural(n, 'key')}`;
  });
  return [
    {
      code: 'cluster-target-db-zero-only',
      message:
        `the target is a Redis Cluster, which has only db 0, and the copy would write ${formatDbs(elsewhere)} ` +
        `of the source there as other databases (${keys.join(', ')}): copy one database into db 0 with the ` +
        'URLs (e.g. redis://source:6379/3 to redis://cluster:6379/0), or --db 0 to copy db 0 alone',
    },
  ];
}

/** Target shards whose maxmemory is below the estimated share of the copy hashing to their slots. */
function overfullShards(ctx: PlanContext): { at: string; limit: number; bytes: number; keys: number }[] {
  if (!isCluster(ctx, 'target')) return [];
  return targetShardLoads(ctx.source, ctx.target, { keys: ctx.keys, bytes: ctx.bytes })
    .filter((l) => l.shard.primary.facts.maxmemoryBytes && l.bytes > l.shard.primary.facts.maxmemoryBytes)
    .map((l) => ({
      at: describeShard(l.shard),
      limit: l.shard.primary.facts.maxmemoryBytes ?? 0,
      bytes: l.bytes,
      keys: l.keys,
    }));
}

const partialCopy = (ctx: PlanContext) => ctx.options.match !== undefined || ctx.leftOutDbs.length > 0;

/** Each target shard must hold the source keys that hash to its slots (estimated from the probes). */
function shardCapacity(ctx: PlanContext): Finding[] {
  if (partialCopy(ctx)) return [];
  return overfullShards(ctx).map((s) => ({
    code: 'target-shard-too-small',
    message:
      `target shard ${s.at} has maxmemory ${formatMib(s.limit)}, and the source keys that hash to its slots ` +
      `need about ${formatMib(s.bytes)} (${plural(s.keys, 'key')}; an estimate from the probes: each source's ` +
      'memory spread evenly over its slots): raise maxmemory on that shard, or give the target more shards',
  }));
}

/** A partial copy (--match, some databases) may fit: the same estimate, as a warning. */
export function shardCapacityWarnings(ctx: PlanContext): Finding[] {
  if (!partialCopy(ctx)) return [];
  return overfullShards(ctx).map((s) => ({
    code: 'target-shard-may-be-too-small',
    message:
      `target shard ${s.at} has maxmemory ${formatMib(s.limit)}, and the source keys that hash to its slots may ` +
      `need up to ${formatMib(s.bytes)} (an estimate from the probes, before --match or the database choice ` +
      'narrow it): check that it fits, or raise maxmemory on that shard',
  }));
}

/** The copy reads function libraries from one source primary and loads them on the target. */
function sourceFunctionsDiffer(ctx: PlanContext): Finding[] {
  const diff = differing(ctx.source, (p) => String(p.functionLibraries ?? 'none'));
  if (!diff) return [];
  return [
    {
      code: 'cluster-source-functions-differ',
      message:
        `source cluster primaries hold different function libraries (${diff}): a copy would load one node's ` +
        'libraries on the target and lose the others; load the same libraries on every source primary first ' +
        '(FUNCTION DUMP on one, FUNCTION RESTORE on the others)',
    },
  ];
}
