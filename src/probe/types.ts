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
