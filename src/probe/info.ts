// Parsers for the text that INFO returns. Pure functions, so they are unit-tested on captured output.
import type { DatabaseStats, ProbeResult } from './types.js';

/** INFO text as sections (lower-case names) of field -> value. Lines before any section go to ''. */
export type InfoSections = Record<string, Record<string, string>>;

export function parseInfo(text: string): InfoSections {
  const sections: InfoSections = {};
  let current: Record<string, string> = {};
  sections[''] = current;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const name = line.slice(1).trim().toLowerCase();
      current = sections[name] ?? {};
      sections[name] = current;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    // INFO modules repeats `module:` once per module: keep every line as module, module#2, ...
    const name = line.slice(0, colon);
    let field = name;
    for (let n = 2; field in current; n++) field = `${name}#${n}`;
    current[field] = line.slice(colon + 1);
  }
  return sections;
}

/** A field from any section (field names are unique across INFO sections). */
export function infoField(info: InfoSections, field: string): string | undefined {
  for (const section of Object.values(info)) {
    if (field in section) return section[field];
  }
  return undefined;
}

function int(value: string | undefined, fallback = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  return Number.isFinite(n) ? n : fallback;
}

/** `db3:keys=10,expires=2,avg_ttl=500` lines -> stats, sorted by db. Unknown fields are ignored. */
export function parseKeyspace(info: InfoSections): DatabaseStats[] {
  const out: DatabaseStats[] = [];
  for (const [field, value] of Object.entries(info['keyspace'] ?? {})) {
    const m = /^db(\d+)$/.exec(field);
    if (!m) continue;
    const kv: Record<string, string> = {};
    for (const pair of value.split(',')) {
      const eq = pair.indexOf('=');
      if (eq > 0) kv[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    // Hashes with field TTLs: Redis >= 7.4 says `subexpiry`, Valkey >= 9 `keys_with_volatile_items`.
    const fieldTtls = kv['subexpiry'] ?? kv['keys_with_volatile_items'];
    out.push({
      db: Number(m[1]),
      keys: int(kv['keys']),
      expires: int(kv['expires']),
      avgTtlMs: int(kv['avg_ttl']),
      ...(fieldTtls !== undefined ? { hashesWithFieldTtls: int(fieldTtls) } : {}),
    });
  }
  return out.sort((a, b) => a.db - b.db);
}

/**
 * Which server this is. Valkey reports `server_name:valkey` and `valkey_version` (its
 * `redis_version` stays at the Redis version it is compatible with); other forks add their own
 * `<name>_version` field.
 */
export function parseFlavor(info: InfoSections): { flavor: string; flavorVersion?: string } {
  const server = info['server'] ?? {};
  const named = server['server_name'];
  if (named && named !== 'redis') {
    const version = server[`${named}_version`];
    return version ? { flavor: named, flavorVersion: version } : { flavor: named };
  }
  for (const fork of ['valkey', 'dragonfly', 'keydb']) {
    const version = server[`${fork}_version`];
    if (version) return { flavor: fork, flavorVersion: version };
  }
  return { flavor: 'redis' };
}

export function parseServer(
  info: InfoSections,
): Pick<ProbeResult['server'], 'version' | 'flavor' | 'mode' | 'uptimeSeconds'> & { flavorVersion?: string } {
  const server = info['server'] ?? {};
  const clusterEnabled = info['cluster']?.['cluster_enabled'] === '1';
  const redisMode = server['redis_mode'] ?? server['server_mode'];
  let mode: ProbeResult['server']['mode'] = 'standalone';
  if (redisMode === 'sentinel') mode = 'sentinel';
  else if (redisMode === 'cluster' || clusterEnabled) mode = 'cluster';
  return {
    version: server['redis_version'] ?? 'unknown',
    ...parseFlavor(info),
    mode,
    uptimeSeconds: int(server['uptime_in_seconds']),
  };
}

export function parseReplication(info: InfoSections): ProbeResult['replication'] {
  const repl = info['replication'] ?? {};
  const role = repl['role'] === 'slave' || repl['role'] === 'replica' ? 'replica' : 'master';
  const out: ProbeResult['replication'] = {
    role,
    connectedReplicas: int(repl['connected_slaves']),
    replOffset: int(repl['master_repl_offset'] ?? repl['slave_repl_offset']),
  };
  if (role === 'replica') {
    if (repl['master_host']) out.masterHost = repl['master_host'];
    if (repl['master_port']) out.masterPort = int(repl['master_port']);
    if (repl['master_link_status'])
      out.masterLinkStatus = repl['master_link_status'] === 'up' ? 'up' : 'down';
  }
  return out;
}

/** Memory from INFO memory; maxmemory and policy are there since Redis 4 (null when missing). */
export function parseMemory(info: InfoSections): ProbeResult['memory'] {
  const mem = info['memory'] ?? {};
  return {
    usedBytes: int(mem['used_memory']),
    maxmemoryBytes: mem['maxmemory'] !== undefined ? int(mem['maxmemory']) : null,
    policy: mem['maxmemory_policy'] ?? null,
  };
}

/** `number_of_libraries` from INFO memory (Redis 7+), a fallback when FUNCTION LIST is blocked. */
export function parseFunctionLibraries(info: InfoSections): number | null {
  const value = info['memory']?.['number_of_libraries'];
  return value === undefined ? null : int(value);
}

/** "7.0.15" -> [7, 0, 15]; anything unparsable counts as 0. */
export function parseVersion(version: string): [number, number, number] {
  const [major, minor, patch] = version.split('.').map((p) => Number.parseInt(p, 10));
  return [major || 0, minor || 0, patch || 0];
}

export function versionAtLeast(version: string, major: number, minor = 0): boolean {
  const [ma, mi] = parseVersion(version);
  return ma > major || (ma === major && mi >= minor);
}

/** `module:name=search,ver=20804,api=1,...` lines of INFO modules (Redis 6+). */
export function parseInfoModules(info: InfoSections): { name: string; version: number }[] {
  const out: { name: string; version: number }[] = [];
  for (const [field, value] of Object.entries(info['modules'] ?? {})) {
    if (field !== 'module' && !field.startsWith('module#')) continue;
    const name = /(?:^|,)name=([^,]*)/.exec(value)?.[1];
    const ver = /(?:^|,)ver=(\d+)/.exec(value)?.[1];
    if (name) out.push({ name, version: int(ver) });
  }
  return out;
}

/** MODULE LIST reply: one flat map (`name`, `ver`, `path`, `args`) per module. */
export function parseModuleList(reply: unknown): { name: string; version: number }[] {
  if (!Array.isArray(reply)) return [];
  const out: { name: string; version: number }[] = [];
  for (const entry of reply) {
    if (!Array.isArray(entry)) continue;
    const fields: Record<string, unknown> = {};
    for (let i = 0; i + 1 < entry.length; i += 2) fields[String(entry[i])] = entry[i + 1];
    if (fields['name'] !== undefined)
      out.push({ name: String(fields['name']), version: int(String(fields['ver'])) });
  }
  return out;
}
