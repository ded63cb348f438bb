// probeEndpoint: everything a plan needs to know about one Redis endpoint, read without changing
// its data or settings. One connection, a handful of pipelined round trips; the keyspace is only
// walked in --big-keys mode, and then only up to a fixed number of keys.
import type { Redis } from 'ioredis';
import { connect, connectionError } from '../redis/connect.js';
import { describeEndpoint, type Endpoint } from '../redis/endpoint.js';
import { UserError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { scrub } from '../util/secrets.js';
import { type BigKeyOptions, sampleBigKeys } from './big-keys.js';
import { detectCommands } from './commands.js';
import {
  type InfoSections,
  parseFunctionLibraries,
  parseInfo,
  parseInfoModules,
  parseKeyspace,
  parseMemory,
  parseModuleList,
  parseReplication,
  parseServer,
  versionAtLeast,
} from './info.js';
import { sampleModuleKeys } from './module-keys.js';
import { rdbVersionForServer, rdbVersionFromDump } from './rdb-version.js';
import { type ConfigParam, findDatabaseCount, readConfig } from './settings.js';
import type { DatabaseStats, ProbeResult } from './types.js';

export interface ProbeOptions {
  /** Sample keys for the biggest ones (true = default bounds). */
  bigKeys?: boolean | BigKeyOptions;
  logger?: Logger;
  /** Per-command timeout in ms (default 15 s): a stuck server must not hang the probe. */
  commandTimeoutMs?: number;
}

/** Connects to the endpoint, probes it and disconnects. Unreachable or bad auth -> UserError. */
export async function probeEndpoint(endpoint: Endpoint, options: ProbeOptions = {}): Promise<ProbeResult> {
  const client = await connect(endpoint, { role: 'probe', maxReconnects: 1 });
  // Set only once connected: ioredis leaves the timers of commands that failed during the
  // handshake (a wrong password) running, which would keep the process alive for the timeout.
  client.options.commandTimeout = options.commandTimeoutMs ?? 15_000;
  try {
    return await probeWith(client, endpoint, options);
  } catch (err) {
    if (err instanceof UserError) throw err;
    const message = (err as Error).message ?? '';
    if (
      /connection|closed|ECONNRESET|EPIPE|timed? ?out/i.test(message) ||
      (err as NodeJS.ErrnoException).code
    )
      throw connectionError(endpoint, err as Error);
    throw new UserError(`probe of ${describeEndpoint(endpoint)} failed: ${scrub(message)}`);
  } finally {
    client.disconnect();
  }
}

/** Probes over an open connection (selected on `endpoint.db`); the connection is left open. */
export async function probeWith(
  client: Redis,
  endpoint: Endpoint,
  options: ProbeOptions = {},
): Promise<ProbeResult> {
  const log = options.logger?.child({ endpoint: endpoint.name, step: 'probe' });
  const notes: string[] = [];
  const probedAt = new Date().toISOString();

  let info: InfoSections;
  try {
    info = parseInfo(await client.info());
  } catch (err) {
    throw new UserError(
      `cannot read INFO from ${describeEndpoint(endpoint)}: ${scrub((err as Error).message)}`,
    );
  }
  const server = parseServer(info);
  const { version } = server;
  log?.debug({ version, flavor: server.flavor, mode: server.mode }, 'server identified');

  // Redis 7.2+: keep our reads (DUMP, type/length lookups) from touching keys' LRU/LFU data.
  // Older servers have no such switch; a handful of keys get their access time refreshed.
  if (versionAtLeast(version, 7, 2)) await client.call('CLIENT', 'NO-TOUCH', 'ON').catch(() => undefined);

  const detection = await detectCommands(client, version, endpoint.username);
  const { commands } = detection;
  notes.push(...detection.notes);
  log?.debug({ user: detection.user }, 'commands checked');

  const databases = parseKeyspace(info);
  const totalKeys = databases.reduce((n, d) => n + d.keys, 0);
  const totalExpires = databases.reduce((n, d) => n + d.expires, 0);

  // CONFIG GET only when it is known to work, so a blocked CONFIG leaves no denial in ACL LOG.
  let config: Partial<Record<ConfigParam, string>> = {};
  let configProblem = commands['CONFIG GET'].available ? undefined : commands['CONFIG GET'].reason;
  if (!configProblem) {
    try {
      config = await readConfig(client);
    } catch (err) {
      configProblem = scrub((err as Error).message);
    }
  }
  if (configProblem) {
    notes.push(
      `CONFIG GET is not available (${configProblem}): notify-keyspace-events and proto-max-bulk-len are unknown.`,
    );
  }

  const memory = parseMemory(info);
  if (memory.maxmemoryBytes === null && config.maxmemory !== undefined)
    memory.maxmemoryBytes = Number(config.maxmemory);
  if (memory.policy === null && config['maxmemory-policy'] !== undefined)
    memory.policy = config['maxmemory-policy'];

  const configuredDatabases = await databaseCount(client, endpoint, server.mode, config, databases, notes);
  const rdb = await rdbVersion(client, endpoint.db, server, databases, commands.DUMP.available, notes);
  const modules = await listModules(client, info, notes);
  const functionLibraries = await countFunctionLibraries(client, info, version, notes);

  if (server.mode === 'cluster') {
    notes.push(
      'Cluster mode: only the node at this URL was probed; keys, memory and big keys are that node’s.',
    );
  }

  const result: ProbeResult = {
    endpoint: { name: endpoint.name, redactedUrl: endpoint.redactedUrl },
    probedAt,
    server: {
      version,
      flavor: server.flavor,
      ...(server.flavorVersion ? { flavorVersion: server.flavorVersion } : {}),
      rdbVersion: rdb.version,
      rdbVersionSource: rdb.source,
      mode: server.mode,
      uptimeSeconds: server.uptimeSeconds,
    },
    replication: parseReplication(info),
    databases,
    configuredDatabases,
    totalKeys,
    totalExpires,
    memory,
    notifyKeyspaceEvents: config['notify-keyspace-events'] ?? null,
    protoMaxBulkLen: config['proto-max-bulk-len'] !== undefined ? Number(config['proto-max-bulk-len']) : null,
    modules,
    functionLibraries,
    commands,
    notes,
  };

  if (modules.length > 0) {
    const sample = await sampleModuleKeys(client, databases, endpoint.db);
    result.moduleKeys = { sampled: sample.sampled, keys: sample.keys, types: sample.types };
    notes.push(...sample.notes);
  }
  if (options.bigKeys) {
    const bigKeyOptions = options.bigKeys === true ? {} : options.bigKeys;
    const sample = await sampleBigKeys(client, databases, endpoint.db, bigKeyOptions);
    result.bigKeys = { sampled: sample.sampled, keys: sample.keys };
    notes.push(...sample.notes);
    log?.debug({ sampled: sample.sampled }, 'big keys sampled');
  }
  return result;
}

async function databaseCount(
  client: Redis,
  endpoint: Endpoint,
  mode: ProbeResult['server']['mode'],
  config: Partial<Record<ConfigParam, string>>,
  databases: DatabaseStats[],
  notes: string[],
): Promise<number | null> {
  const highestUsed = databases.reduce((max, d) => Math.max(max, d.db), 0);
  // Redis Cluster ignores `databases` and only has db 0; SELECT tells (forks may allow more).
  if (mode === 'cluster') {
    const found = await findDatabaseCount(client, endpoint.db, highestUsed);
    if (found.count !== null) return found.count;
  }
  if (config.databases !== undefined) return Number(config.databases);
  const found = await findDatabaseCount(client, endpoint.db, highestUsed);
  if (found.count === null) {
    notes.push(`The number of databases is unknown: CONFIG GET is blocked and SELECT failed (${found.why}).`);
    return null;
  }
  notes.push(
    found.exact
      ? `The number of databases (${found.count}) was found with SELECT, as CONFIG GET is not available.`
      : `At least ${found.count} databases (found with SELECT, search stopped there).`,
  );
  return found.count;
}

/**
 * The RDB version from a DUMP of an existing small key (found by a short SCAN of the first db
 * with keys), else from the version table. DUMP only reads the key.
 */
async function rdbVersion(
  client: Redis,
  currentDb: number,
  server: { version: string; flavor: string; flavorVersion?: string },
  databases: DatabaseStats[],
  canDump: boolean,
  notes: string[],
): Promise<{ version: number; source: 'dump' | 'version-table' }> {
  const fallback = {
    version: rdbVersionForServer(server.version, server.flavor, server.flavorVersion),
    source: 'version-table' as const,
  };
  const release =
    server.flavor !== 'redis' && server.flavorVersion
      ? `${server.flavor} ${server.flavorVersion}`
      : `Redis ${server.version}`;
  const db = databases.find((d) => d.keys > 0)?.db;
  if (!canDump || db === undefined) {
    notes.push(
      `RDB version ${fallback.version} is taken from the version table for ${release} (${
        canDump ? 'no key to DUMP' : 'DUMP is not available'
      }).`,
    );
    return fallback;
  }
  try {
    if (db !== currentDb) await client.select(db);
    let cursor = '0';
    // A few small SCAN steps: a sparse table can return empty batches; never the whole keyspace.
    for (let step = 0; step < 10; step++) {
      const [next, keys] = await client.scanBuffer(cursor, 'COUNT', 20);
      for (const key of await smallKeys(client, keys)) {
        const payload = await client.dumpBuffer(key);
        const found = payload ? rdbVersionFromDump(payload) : null;
        if (found !== null) return { version: found, source: 'dump' };
      }
      cursor = next.toString();
      if (cursor === '0') break;
    }
    notes.push(`RDB version ${fallback.version} is taken from the version table (no key found to DUMP).`);
  } catch (err) {
    notes.push(
      `RDB version ${fallback.version} is taken from the version table (DUMP failed: ${scrub((err as Error).message)}).`,
    );
  } finally {
    if (db !== currentDb) await client.select(currentDb).catch(() => undefined);
  }
  return fallback;
}

/** Serialising a big key would stall the server: only keys under this size are DUMPed. */
const MAX_DUMP_BYTES = 64 * 1024;

async function smallKeys(client: Redis, keys: Buffer[]): Promise<Buffer[]> {
  if (keys.length === 0) return [];
  const pipeline = client.pipeline();
  for (const key of keys) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '5');
  const results = (await pipeline.exec()) ?? [];
  const firstError = results.find(([err]) => err)?.[0];
  if (firstError) throw new Error(`MEMORY USAGE (to pick a small key) failed: ${firstError.message}`);
  return keys.filter((_, i) => {
    const bytes = results[i]?.[1];
    return typeof bytes === 'number' && bytes <= MAX_DUMP_BYTES;
  });
}

async function listModules(
  client: Redis,
  info: InfoSections,
  notes: string[],
): Promise<{ name: string; version: number }[]> {
  try {
    return parseModuleList(await client.call('MODULE', 'LIST'));
  } catch (err) {
    const fromInfo = parseInfoModules(info);
    const why = scrub((err as Error).message);
    if (fromInfo.length > 0) {
      notes.push(`MODULE LIST is not available (${why}); modules are taken from INFO modules.`);
      return fromInfo;
    }
    notes.push(`MODULE LIST is not available (${why}); modules are unknown (reported as none).`);
    return [];
  }
}

async function countFunctionLibraries(
  client: Redis,
  info: InfoSections,
  version: string,
  notes: string[],
): Promise<number | null> {
  if (!versionAtLeast(version, 7)) return null;
  try {
    const libraries = (await client.call('FUNCTION', 'LIST')) as unknown[];
    return libraries.length;
  } catch (err) {
    const fromInfo = parseFunctionLibraries(info);
    notes.push(
      `FUNCTION LIST is not available (${scrub((err as Error).message)})${
        fromInfo === null ? '; function libraries are unknown' : '; the count is taken from INFO memory'
      }.`,
    );
    return fromInfo;
  }
}
