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
  /** Hash field TTLs: absent in probes of older versions of this tool. */
  fieldTtls?: FieldTtlFacts;
  /** Set when --big-keys sampling ran. */
  bigKeys?: { sampled: number; keys: BigKey[] };
  /** Things the probe could not find out, said plainly. */
  notes: string[];
}
