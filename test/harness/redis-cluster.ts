// Starts a Redis Cluster of real redis-server processes on free loopback ports (each its own dir
// and nodes.conf, via startRedis) and joins them with CLUSTER ADDSLOTS / MEET / REPLICATE, so no
// redis-cli is needed. Stops them by PID. Helpers: a cluster-aware ioredis client, the node owning
// a slot, and reshard() (MIGRATE + CLUSTER SETSLOT) for resharding tests.
import { Redis, type RedisOptions } from 'ioredis';
import { type RedisServer, type RedisServerOptions, startRedis } from './redis-server.js';

export const CLUSTER_SLOTS = 16384;

export interface ClusterOptions extends RedisServerOptions {
  /** Number of primaries (default 3). */
  primaries?: number;
  /** Replicas per primary, 0 or 1 (default 0). */
  replicasPerPrimary?: 0 | 1;
  /** How long to wait for `cluster_state:ok` on every node (default 30 s). */
  readyTimeoutMs?: number;
}

export interface ClusterNode {
  server: RedisServer;
  /** CLUSTER MYID. */
  id: string;
  role: 'primary' | 'replica';
  /** For a replica: the id of its primary. */
  primaryId?: string;
}

export interface RedisCluster {
  /** Every node, primaries first (in slot order), then replicas. */
  nodes: ClusterNode[];
  primaries: ClusterNode[];
  replicas: ClusterNode[];
  /** URL of the first primary (a cluster endpoint names any node). */
  url: string;
  password: string | undefined;
  /** A ready cluster-aware ioredis client; closed by stop(). */
  client(extra?: Partial<RedisOptions>): Promise<InstanceType<typeof Redis.Cluster>>;
  /** The slot of a key, as the cluster computes it (CLUSTER KEYSLOT). */
  keySlot(key: string | Buffer): Promise<number>;
  /** The primary that owns a slot now (asks the cluster, so it follows reshard()). */
  nodeOfSlot(slot: number): Promise<ClusterNode>;
  /**
   * Moves these slots, with their keys, to a primary: SETSLOT IMPORTING/MIGRATING, MIGRATE,
   * SETSLOT NODE. `midway` runs for each slot while it is half moved (its keys on the new owner,
   * the old one MIGRATING: commands on missing keys there get ASK).
   */
  reshard(
    slots: number[],
    to: ClusterNode,
    hooks?: { midway?: (slot: number) => Promise<void> },
  ): Promise<void>;
  /** Waits until every node reports cluster_state:ok and agrees on who owns every slot. */
  waitUntilStable(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Slot ranges split as evenly as redis-cli --cluster create does. */
export function evenSlotRanges(primaries: number): [number, number][] {
  const out: [number, number][] = [];
  const per = CLUSTER_SLOTS / primaries;
  let first = 0;
  for (let i = 0; i < primaries; i++) {
    const last = i === primaries - 1 ? CLUSTER_SLOTS - 1 : Math.round(per * (i + 1)) - 1;
    out.push([first, last]);
    first = last + 1;
  }
  return out;
}

export async function startCluster(options: ClusterOptions = {}): Promise<RedisCluster> {
  const primaryCount = options.primaries ?? 3;
  const replicasPer = options.replicasPerPrimary ?? 0;
  if (primaryCount < 1) throw new RangeError('a cluster needs at least one primary');
  const { primaries: _p, replicasPerPrimary: _r, readyTimeoutMs, ...serverOptions } = options;
  const configLines = [
    'cluster-enabled yes',
    'cluster-config-file nodes.conf',
    'cluster-node-timeout 5000',
    ...(options.password ? [`masterauth ${options.password}`] : []),
    ...(options.configLines ?? []),
  ];
  const servers: RedisServer[] = [];
  const admins: Redis[] = [];
  const stopAll = async () => {
    for (const a of admins) a.disconnect();
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    for (let i = 0; i < primaryCount * (1 + replicasPer); i++) {
      servers.push(await startRedis({ ...serverOptions, configLines }));
    }
    for (const s of servers) admins.push(await s.client());
    const ids = await Promise.all(admins.map(async (a) => String(await a.call('CLUSTER', 'MYID'))));
    const ranges = evenSlotRanges(primaryCount);
    for (let i = 0; i < primaryCount; i++) await addSlots(admins[i]!, ranges[i]!);
    for (let i = 1; i < servers.length; i++) {
      await admins[0]!.call('CLUSTER', 'MEET', servers[i]!.host, String(servers[i]!.port));
    }
    await waitFor(
      async () => {
        for (const a of admins) {
          const known = String(await a.call('CLUSTER', 'NODES'))
            .trim()
            .split('\n').length;
          if (known < servers.length) return false;
        }
        return true;
      },
      readyTimeoutMs ?? 30_000,
      'every node to know every other (CLUSTER MEET)',
    );
    const nodes: ClusterNode[] = servers.map((server, i) =>
      i < primaryCount
        ? { server, id: ids[i]!, role: 'primary' }
        : { server, id: ids[i]!, role: 'replica', primaryId: ids[(i - primaryCount) % primaryCount]! },
    );
    for (let i = primaryCount; i < servers.length; i++) {
      await admins[i]!.call('CLUSTER', 'REPLICATE', nodes[i]!.primaryId!);
    }
    const cluster = makeCluster(nodes, admins, options.password, stopAll);
    await cluster.waitUntilStable(readyTimeoutMs ?? 30_000);
    if (replicasPer > 0) {
      await waitFor(
        async () => {
          for (const n of nodes.filter((x) => x.role === 'replica')) {
            const info = await admins[nodes.indexOf(n)]!.info('replication');
            if (!/master_link_status:up/.test(info)) return false;
          }
          return true;
        },
        readyTimeoutMs ?? 30_000,
        'every replica to be in sync with its primary',
      );
    }
    return cluster;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function makeCluster(
  nodes: ClusterNode[],
  admins: Redis[],
  password: string | undefined,
  stopAll: () => Promise<void>,
): RedisCluster {
  const clients: InstanceType<typeof Redis.Cluster>[] = [];
  const adminOf = (node: ClusterNode) => admins[nodes.indexOf(node)]!;
  const primaries = nodes.filter((n) => n.role === 'primary');
  const ownerMap = async (via: Redis): Promise<Map<number, string>> => {
    const owners = new Map<number, string>();
    for (const entry of (await via.call('CLUSTER', 'SLOTS')) as unknown[][]) {
      const [first, last, primary] = entry as [number, number, unknown[]];
      const id = String(primary[2]);
      for (let s = first; s <= last; s++) owners.set(s, id);
    }
    return owners;
  };
  const cluster: RedisCluster = {
    nodes,
    primaries,
    replicas: nodes.filter((n) => n.role === 'replica'),
    url: primaries[0]!.server.url,
    password,
    async client(extra = {}) {
      const c = new Redis.Cluster(
        primaries.map((p) => ({ host: p.server.host, port: p.server.port })),
        {
          redisOptions: { ...(password ? { password } : {}), maxRetriesPerRequest: 3, ...extra },
          clusterRetryStrategy: (times) => (times > 5 ? null : 100 * times),
          lazyConnect: true,
        },
      );
      c.on('error', () => {});
      await c.connect();
      clients.push(c);
      return c;
    },
    async keySlot(key) {
      return Number(await admins[0]!.call('CLUSTER', 'KEYSLOT', key));
    },
    async nodeOfSlot(slot) {
      const id = (await ownerMap(admins[0]!)).get(slot);
      const node = nodes.find((n) => n.id === id);
      if (!node) throw new Error(`no node owns slot ${slot}`);
      return node;
    },
    async reshard(slots, to, hooks = {}) {
      for (const slot of slots) {
        const from = await cluster.nodeOfSlot(slot);
        if (from.id === to.id) continue;
        const src = adminOf(from);
        const dst = adminOf(to);
        await dst.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', from.id);
        await src.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', to.id);
        for (;;) {
          const keys = (await src.callBuffer('CLUSTER', 'GETKEYSINSLOT', String(slot), '100')) as Buffer[];
          if (keys.length === 0) break;
          const auth = password ? ['AUTH', password] : [];
          await src.callBuffer(
            'MIGRATE',
            to.server.host,
            String(to.server.port),
            '',
            '0',
            '10000',
            'REPLACE',
            ...auth,
            'KEYS',
            ...keys,
          );
        }
        await hooks.midway?.(slot);
        // The new owner first, then the old one, then everybody else (as redis-cli does).
        await dst.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id);
        await src.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id);
        for (const p of primaries) {
          if (p.id !== from.id && p.id !== to.id)
            await adminOf(p).call('CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id);
        }
      }
      await cluster.waitUntilStable();
    },
    async waitUntilStable(timeoutMs = 60_000) {
      // What the last look saw, for the error when it never settles.
      let seen = '';
      await waitFor(
        async () => {
          let first: string | null = null;
          const views: string[] = [];
          for (const [i, a] of admins.entries()) {
            const state = /cluster_state:(\w+)/.exec(String(await a.call('CLUSTER', 'INFO')))?.[1] ?? '?';
            // Sorted by slot: the comparison must not depend on the order CLUSTER SLOTS lists ranges in.
            const owners = [...(await ownerMap(a))].sort((x, y) => x[0] - y[0]);
            const map = JSON.stringify(owners);
            views.push(`${nodes[i]!.server.port}: ${state}, ${owners.length} slots`);
            if (state !== 'ok') {
              seen = views.join('; ');
              return false;
            }
            if (first === null) first = map;
            else if (map !== first) {
              seen = `${views.join('; ')} (this node's slot map differs from the first node's)`;
              return false;
            }
          }
          seen = views.join('; ');
          return first !== null && JSON.parse(first).length === CLUSTER_SLOTS;
        },
        timeoutMs,
        'cluster_state:ok and one slot map on every node',
        () => seen,
      );
    },
    async stop() {
      for (const c of clients) c.disconnect();
      await stopAll();
    },
  };
  return cluster;
}

async function addSlots(admin: Redis, [first, last]: [number, number]): Promise<void> {
  try {
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', String(first), String(last));
  } catch {
    // Redis < 7.0 has no ADDSLOTSRANGE.
    const slots: string[] = [];
    for (let s = first; s <= last; s++) slots.push(String(s));
    await admin.call('CLUSTER', 'ADDSLOTS', ...slots);
  }
}

async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
  lastSeen: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) {
      const seen = lastSeen();
      throw new Error(
        `cluster harness: gave up waiting for ${what} after ${timeoutMs} ms${seen ? ` (last seen: ${seen})` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
