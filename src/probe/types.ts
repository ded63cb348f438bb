// What a probe learns about one Redis endpoint. Plain data (JSON-safe) so it can be stored with
// a migration, printed with --json, and fed to the pure planner.

/** Commands whose availability decides which strategies are possible. */
export const PROBED_COMMANDS = [
  'REPLICAOF',
  'CONFIG GET',
  'CONFIG SET',
  'MIGRATE',
  'SYNC',
  'PSYNC',
  'CLIENT PAUSE',
  'CLIENT LIST',
  'CLIENT KILL',
  'DUMP',
  'RESTORE',
  'FUNCTION DUMP',
  'FUNCTION RESTORE',
  'PSUBSCRIBE',
] as const;
export type ProbedCommand = (typeof PROBED_COMMANDS)[number];

export interface CommandAvailability {
  available: boolean;
  /** Why it is not available (or why we are unsure): "unknown command (renamed or disabled)", "ACL: no permission". */
  reason?: string;
  /** How this was found: ACL DRYRUN, COMMAND INFO, a harmless call, ... */
  via?: string;
}

export interface DatabaseStats {
  db: number;
  keys: number;
  /** Keys with a TTL. */
  expires: number;
  /** Average TTL of expiring keys in ms, as INFO keyspace reports it (0 when unknown). */
  avgTtlMs: number;
  /**
   * Hashes with per-field TTLs, where INFO keyspace reports them (`subexpiry` on Redis >= 7.4,
   * `keys_with_volatile_items` on Valkey >= 9); absent on servers that do not. Redis counts a
   * hash until its active expiry next looks at it, so one whose last field TTL was just removed
   * (HPERSIST) may still count.
   */
  hashesWithFieldTtls?: number;
}

/** Per-field TTLs of hashes (HPEXPIRE, Redis >= 7.4, Valkey >= 9) on one server. */
export interface FieldTtlFacts {
  /** The server has field TTLs (HPEXPIRETIME of a missing key is not an unknown command): it can hold them. */
  supported: boolean;
  /** Hashes with field TTLs in all databases (0 when not supported). */
  hashes: number;
  /**
   * How `hashes` was found: 'info-keyspace' (exact, the server's own count), 'sampled' (a
   * bounded SCAN of hashes: a lower bound), or 'unsupported' (the server cannot have any).
   */
  counted: 'info-keyspace' | 'sampled' | 'unsupported';
  /** With 'sampled': hashes looked at, and whether that was all of them. */
  sampledHashes?: number;
  sampledAll?: boolean;
  /** Hashes with field TTLs per database (dbs with none are left out). */
  perDb: { db: number; hashes: number }[];
}

export interface BigKey {
  db: number;
  /** Key as printable text: UTF-8 when valid, otherwise with \xNN escapes. */
  key: string;
  type: string;
  /** MEMORY USAGE in bytes. */
  bytes: number;
  /** Elements (HLEN, LLEN, ...) when the type has them. */
  elements?: number;
}

/** One node of a cluster as the topology names it. */
export interface ClusterNodeRef {
  /** CLUSTER MYID of the node ('' when CLUSTER SLOTS of an old server did not say). */
  id: string;
  /** `host:port` the cluster announces (the port the endpoint's TLS setting uses). */
  address: string;
  /** CLUSTER SHARDS health ('online', 'failed', 'loading'); absent from CLUSTER SLOTS. */
  health?: string;
}

/** What the probe found on one primary: the per-node facts that may differ across a cluster. */
export interface ClusterNodeFacts {
  version: string;
  flavor: string;
  rdbVersion: number;
  /** Keys in db 0 (a cluster has no other) and those with a TTL. */
  keys: number;
  expires: number;
  usedBytes: number;
  /** 0 means no limit; null when it could not be read. */
  maxmemoryBytes: number | null;
  policy: string | null;
  notifyKeyspaceEvents: string | null;
  protoMaxBulkLen: number | null;
  functionLibraries: number | null;
  /** Probed commands this node does not allow, with the reason. */
  unavailable: Partial<Record<ProbedCommand, string>>;
}

export interface ClusterShard {
  /** Slot ranges this shard owns, inclusive, ascending. */
  slots: [number, number][];
  /** Number of slots owned (of 16384). */
  slotCount: number;
  primary: ClusterNodeRef & { facts: ClusterNodeFacts };
  replicas: ClusterNodeRef[];
}

/**
 * The topology of a cluster and what each primary holds. When `cluster` is set, the top-level
 * fields of ProbeResult describe the whole cluster: `databases`, `totalKeys`, `totalExpires` and
 * `memory.usedBytes` are sums over the primaries; `memory.maxmemoryBytes` is the sum of the
 * primaries' limits (0 when any has none, null when any is unknown); a setting that differs
 * between primaries takes its most restrictive value (`memory.policy` an evicting one,
 * `protoMaxBulkLen` the smallest, `functionLibraries` the largest count, a command is available only
 * when every primary allows it, `notifyKeyspaceEvents` null when they differ); `server` and
 * `replication` stay those of the node the URL names.
 */
export interface ClusterProbe {
  /** Where the topology came from: CLUSTER SHARDS (Redis 7+) or CLUSTER SLOTS (older servers). */
  topologyFrom: 'CLUSTER SHARDS' | 'CLUSTER SLOTS';
  /** `host:port` of the node the URL names. */
  probedVia: string;
  /** Shards that own slots, in slot order. */
  shards: ClusterShard[];
  /** Slots no shard owns (a cluster with cluster_state:fail). */
  unassignedSlots: number;
}

export interface ProbeResult {
  endpoint: { name: string; redactedUrl: string };
  probedAt: string;
  server: {
    /** redis_version, e.g. "7.0.15". */
    version: string;
    /** "redis", "valkey", or the server name INFO reports. */
    flavor: string;
    /** A fork's own version (e.g. `valkey_version`); `version` stays the Redis version it matches. */
    flavorVersion?: string;
    /** RDB format version this server writes in DUMP payloads and accepts in RESTORE. */
    rdbVersion: number;
    /** How rdbVersion was found: from a DUMP payload, or from the version table. */
    rdbVersionSource: 'dump' | 'version-table';
    mode: 'standalone' | 'cluster' | 'sentinel';
    uptimeSeconds: number;
  };
  replication: {
    role: 'master' | 'replica';
    connectedReplicas: number;
    /** For a replica: where it replicates from and the link state. */
    masterHost?: string;
    masterPort?: number;
    masterLinkStatus?: 'up' | 'down';
    replOffset: number;
  };
  /** Databases that hold keys (INFO keyspace). */
  databases: DatabaseStats[];
  /** `databases` config value when readable, otherwise the highest SELECT that worked + 1, or null. */
  configuredDatabases: number | null;
  totalKeys: number;
  totalExpires: number;
  memory: {
    usedBytes: number;
    /** 0 means no limit; null when it could not be read. */
    maxmemoryBytes: number | null;
    policy: string | null;
  };
  /** `notify-keyspace-events` flags, '' when off, null when it could not be read. */
  notifyKeyspaceEvents: string | null;
  /** proto-max-bulk-len in bytes, null when it could not be read. */
  protoMaxBulkLen: number | null;
  modules: { name: string; version: number }[];
  /** Number of Redis 7 function libraries; null when the server has no functions (Redis < 7). */
  functionLibraries: number | null;
  commands: Record<ProbedCommand, CommandAvailability>;
  /** Set for a Redis Cluster: shards, slot ranges, and every primary's own facts. */
  cluster?: ClusterProbe;
  /** Hash field TTLs: absent in probes of older versions of this tool. */
  fieldTtls?: FieldTtlFacts;
  /** Set when --big-keys sampling ran. */
  bigKeys?: { sampled: number; keys: BigKey[] };
  /**
   * Module types among a sample of keys (module-keys.ts), with a count each; set when the server
   * loads modules (every Redis 8: vector sets). `sampled` < `keys` when the sample is partial.
   */
  moduleKeys?: { sampled: number; keys: number; types: { db: number; type: string; keys: number }[] };
  /** Things the probe could not find out, said plainly. */
  notes: string[];
}
