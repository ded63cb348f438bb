// Small factory for ProbeResult fixtures: a healthy Redis 7.0 standalone primary with every probed
// command available, overridden per test.
import { withDefaults } from '../../../src/planner/defaults.js';
import type { PlanOptions } from '../../../src/planner/types.js';
import {
  type CommandAvailability,
  type DatabaseStats,
  PROBED_COMMANDS,
  type ProbedCommand,
  type ProbeResult,
} from '../../../src/probe/types.js';

export const MB = 1024 * 1024;

export interface ProbeOverrides {
  name?: string;
  url?: string;
  server?: Partial<ProbeResult['server']>;
  replication?: Partial<ProbeResult['replication']>;
  /** Databases as { db: keys } or full stats; expires/avgTtlMs default to 0. */
  dbs?: Record<number, number> | Partial<DatabaseStats>[];
  configuredDatabases?: number | null;
  memory?: Partial<ProbeResult['memory']>;
  notifyKeyspaceEvents?: string | null;
  protoMaxBulkLen?: number | null;
  modules?: ProbeResult['modules'];
  functionLibraries?: number | null;
  /** Commands that are not available, with the probe's reason. */
  missing?: Partial<Record<ProbedCommand, string>>;
  bigKeys?: ProbeResult['bigKeys'];
  moduleKeys?: ProbeResult['moduleKeys'];
}

export function probe(o: ProbeOverrides = {}): ProbeResult {
  const name = o.name ?? 'redis';
  const dbInput = o.dbs ?? { 0: 1000 };
  const databases: DatabaseStats[] = Array.isArray(dbInput)
    ? dbInput.map((d) => ({ db: 0, keys: 0, expires: 0, avgTtlMs: 0, ...d }))
    : Object.entries(dbInput).map(([db, keys]) => ({ db: Number(db), keys, expires: 0, avgTtlMs: 0 }));
  const commands = {} as Record<ProbedCommand, CommandAvailability>;
  for (const cmd of PROBED_COMMANDS) {
    const reason = o.missing?.[cmd];
    commands[cmd] = reason === undefined ? { available: true, via: 'fixture' } : { available: false, reason };
  }
  return {
    endpoint: { name, redactedUrl: o.url ?? `redis://${name}.example:6379` },
    probedAt: '2025-01-01T00:00:00.000Z',
    server: {
      version: '7.0.15',
      flavor: 'redis',
      rdbVersion: 10,
      rdbVersionSource: 'dump',
      mode: 'standalone',
      uptimeSeconds: 1000,
      ...o.server,
    },
    replication: { role: 'master', connectedReplicas: 0, replOffset: 0, ...o.replication },
    databases,
    configuredDatabases: o.configuredDatabases === undefined ? 16 : o.configuredDatabases,
    totalKeys: databases.reduce((n, d) => n + d.keys, 0),
    totalExpires: databases.reduce((n, d) => n + d.expires, 0),
    memory: { usedBytes: 10 * MB, maxmemoryBytes: 0, policy: 'noeviction', ...o.memory },
    notifyKeyspaceEvents: o.notifyKeyspaceEvents === undefined ? '' : o.notifyKeyspaceEvents,
    protoMaxBulkLen: o.protoMaxBulkLen === undefined ? 512 * MB : o.protoMaxBulkLen,
    modules: o.modules ?? [],
    functionLibraries: o.functionLibraries === undefined ? 0 : o.functionLibraries,
    commands,
    ...(o.bigKeys ? { bigKeys: o.bigKeys } : {}),
    ...(o.moduleKeys ? { moduleKeys: o.moduleKeys } : {}),
    notes: [],
  };
}

export function source(o: ProbeOverrides = {}): ProbeResult {
  return probe({ name: 'old', ...o });
}

/** An empty target by default. */
export function target(o: ProbeOverrides = {}): ProbeResult {
  return probe({ name: 'new', dbs: {}, ...o });
}

/** What a managed service (ElastiCache-like) blocks, as the probe words it. */
export const MANAGED_BLOCKS: Partial<Record<ProbedCommand, string>> = {
  REPLICAOF: 'unknown command (renamed or disabled)',
  'CONFIG GET': 'unknown command (renamed or disabled)',
  'CONFIG SET': 'unknown command (renamed or disabled)',
  MIGRATE: 'unknown command (renamed or disabled)',
  SYNC: 'unknown command (renamed or disabled)',
  PSYNC: 'unknown command (renamed or disabled)',
};

export function options(partial: Partial<PlanOptions> = {}): PlanOptions {
  return withDefaults(partial);
}
