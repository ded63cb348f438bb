// What INFO says about a replication link, from both ends. Pure parsers over INFO text, so they
// are unit-tested on captured output.
import { type InfoSections, infoField, parseInfo, parseKeyspace } from '../../probe/info.js';
import type { DatabaseStats } from '../../probe/types.js';

/** One `slaveN:ip=...,port=...,state=...,offset=...,lag=...` line of the source's INFO replication. */
export interface ReplicaEntry {
  ip: string;
  port: number;
  /** wait_bgsave, send_bulk, online, ... */
  state: string;
  offset: number;
  lag: number;
}

/** The target's view: its role, the link to its master, the initial sync and loading. */
export interface TargetState {
  runId: string;
  tcpPort: number;
  clusterEnabled: boolean;
  role: 'master' | 'replica';
  masterHost: string | null;
  masterPort: number | null;
  /** master_link_status (null when not a replica). */
  linkUp: boolean | null;
  syncInProgress: boolean;
  /** Bytes of the initial sync: total is null when unknown (diskless sync streams without a size). */
  syncTotalBytes: number | null;
  syncReadBytes: number | null;
  lastIoSecondsAgo: number | null;
  /** -1 from Redis means the link was never up: null here. */
  linkDownSinceSeconds: number | null;
  /** slave_repl_offset for a replica, master_repl_offset otherwise. */
  offset: number;
  loading: boolean;
  loadingPercent: number | null;
  readOnly: boolean | null;
  connectedReplicas: number;
  keyspace: DatabaseStats[];
}

/** The source's view: its offset, its replicas, and how many full syncs it has served. */
export interface SourceState {
  runId: string;
  role: 'master' | 'replica';
  offset: number;
  replicas: ReplicaEntry[];
  /** INFO stats sync_full: full resyncs served since the server started. */
  syncFull: number;
  syncPartialErr: number;
  replBacklogSize: number | null;
  keyspace: DatabaseStats[];
}

function num(value: string | undefined): number | null {
  if (value === undefined || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

function role(info: InfoSections): 'master' | 'replica' {
  const r = infoField(info, 'role');
  return r === 'slave' || r === 'replica' ? 'replica' : 'master';
}

export function parseReplicaEntry(value: string): ReplicaEntry | null {
  const kv: Record<string, string> = {};
  for (const pair of value.split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0) kv[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (kv.ip === undefined || kv.port === undefined) return null;
  return {
    ip: kv.ip,
    port: Number(kv.port),
    state: kv.state ?? 'unknown',
    offset: Number(kv.offset ?? 0),
    lag: Number(kv.lag ?? 0),
  };
}

export function parseTargetState(text: string): TargetState {
  const info = parseInfo(text);
  const r = role(info);
  const field = (name: string) => infoField(info, name);
  const total = num(field('master_sync_total_bytes'));
  const downSince = num(field('master_link_down_since_seconds'));
  const lastIo = num(field('master_last_io_seconds_ago'));
  const ro = field('slave_read_only') ?? field('replica_read_only');
  return {
    runId: field('run_id') ?? '',
    tcpPort: num(field('tcp_port')) ?? 0,
    clusterEnabled: field('cluster_enabled') === '1',
    role: r,
    masterHost: r === 'replica' ? (field('master_host') ?? null) : null,
    masterPort: r === 'replica' ? num(field('master_port')) : null,
    linkUp: r === 'replica' ? field('master_link_status') === 'up' : null,
    syncInProgress: field('master_sync_in_progress') === '1',
    syncTotalBytes: total !== null && total > 0 ? total : null,
    syncReadBytes: num(field('master_sync_read_bytes')),
    lastIoSecondsAgo: lastIo !== null && lastIo >= 0 ? lastIo : null,
    linkDownSinceSeconds: downSince !== null && downSince >= 0 ? downSince : null,
    offset: num(r === 'replica' ? field('slave_repl_offset') : field('master_repl_offset')) ?? 0,
    loading: field('loading') === '1' || field('async_loading') === '1',
    loadingPercent: num(field('loading_loaded_perc')),
    readOnly: ro === undefined ? null : ro === '1',
    connectedReplicas: num(field('connected_slaves')) ?? 0,
    keyspace: parseKeyspace(info),
  };
}

export function parseSourceState(text: string): SourceState {
  const info = parseInfo(text);
  const repl = info['replication'] ?? {};
  const replicas: ReplicaEntry[] = [];
  for (const [name, value] of Object.entries(repl)) {
    if (!/^slave\d+$/.test(name)) continue;
    const entry = parseReplicaEntry(value);
    if (entry) replicas.push(entry);
  }
  return {
    runId: infoField(info, 'run_id') ?? '',
    role: role(info),
    offset: num(repl['master_repl_offset']) ?? 0,
    replicas,
    syncFull: num(infoField(info, 'sync_full')) ?? 0,
    syncPartialErr: num(infoField(info, 'sync_partial_err')) ?? 0,
    replBacklogSize: num(repl['repl_backlog_size']),
    keyspace: parseKeyspace(info),
  };
}

/** Keys per db that do not expire (`keys - expires`): what two sides should agree on. */
export function persistentKeys(keyspace: readonly DatabaseStats[], db: number): number {
  const d = keyspace.find((k) => k.db === db);
  return d ? d.keys - d.expires : 0;
}

export function totalKeys(keyspace: readonly DatabaseStats[]): number {
  return keyspace.reduce((n, d) => n + d.keys, 0);
}

/** Whether the target replicates from this host and port. */
export function replicatesFrom(state: TargetState, host: string, port: number): boolean {
  return state.role === 'replica' && state.masterPort === port && sameHost(state.masterHost ?? '', host);
}

function sameHost(a: string, b: string): boolean {
  const norm = (h: string) => (h === 'localhost' || h === '::1' ? '127.0.0.1' : h.toLowerCase());
  return norm(a) === norm(b);
}

/** What the target says about its link, in INFO's own words (for people and for failures). */
export function describeLink(state: TargetState): string {
  if (state.role !== 'replica') return 'role:master (not replicating)';
  const parts = [
    `master_link_status:${state.linkUp ? 'up' : 'down'}`,
    `master_sync_in_progress:${state.syncInProgress ? 1 : 0}`,
  ];
  if (state.syncInProgress && state.syncReadBytes !== null) {
    parts.push(`master_sync_read_bytes:${state.syncReadBytes}`);
  }
  if (!state.linkUp) {
    parts.push(
      state.linkDownSinceSeconds === null
        ? 'the link was never up'
        : `master_link_down_since_seconds:${state.linkDownSinceSeconds}`,
    );
  }
  if (state.loading) parts.push('loading:1');
  return parts.join(', ');
}
