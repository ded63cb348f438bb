// A probe result as a compact text report for people (CLI output; plain text, no colours).
import { formatBinaryBytes as formatBytes } from '../util/byte-size.js';
import { formatSlotRanges } from './cluster-topology.js';
import { describeFieldTtls } from './field-ttls.js';
import { type ClusterProbe, PROBED_COMMANDS, type ProbeResult } from './types.js';

export { formatBinaryBytes as formatBytes } from '../util/byte-size.js';

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  return `${m} min ${s % 60} s`;
}

const count = (n: number) => n.toLocaleString('en-US');

/** Rows as aligned columns; `right` marks the columns to right-align (numbers). */
export function table(rows: string[][], right: number[] = [], indent = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) =>
          i === row.length - 1 && !right.includes(i)
            ? cell
            : right.includes(i)
              ? cell.padStart(widths[i]!)
              : cell.padEnd(widths[i]!),
        )
        .join('  ')
        .trimEnd(),
  );
}

function unknownIfNull<T>(value: T | null, show: (v: T) => string): string {
  return value === null ? 'unknown' : show(value);
}

export function formatProbeReport(result: ProbeResult): string {
  const { server, replication: repl, memory } = result;
  const lines: string[] = [];
  const where =
    result.endpoint.name === result.endpoint.redactedUrl
      ? result.endpoint.name
      : `${result.endpoint.name} (${result.endpoint.redactedUrl})`;
  lines.push(`${where}, probed ${result.probedAt}`, '');

  const flavor = server.flavorVersion ? `${server.flavor} ${server.flavorVersion}` : server.flavor;
  let role = `${repl.role}, ${repl.connectedReplicas} connected replica${repl.connectedReplicas === 1 ? '' : 's'}`;
  if (repl.role === 'replica') {
    role = `replica of ${repl.masterHost ?? '?'}:${repl.masterPort ?? '?'}, link ${repl.masterLinkStatus ?? '?'}`;
  }
  const maxmemory =
    memory.maxmemoryBytes === null
      ? 'unknown'
      : memory.maxmemoryBytes === 0
        ? 'no limit'
        : formatBytes(memory.maxmemoryBytes);
  lines.push('Server');
  lines.push(
    ...table([
      [
        'version',
        `${server.version} (${flavor}, ${server.mode}), up ${formatDuration(server.uptimeSeconds)}`,
      ],
      [
        'RDB format',
        `${server.rdbVersion} (${server.rdbVersionSource === 'dump' ? 'from a DUMP payload' : 'from the version table'})`,
      ],
      ['role', `${role}, offset ${count(repl.replOffset)}`],
      [
        'memory',
        `${formatBytes(memory.usedBytes)} used, maxmemory ${maxmemory}, policy ${memory.policy ?? 'unknown'}`,
      ],
      ['keyspace events', unknownIfNull(result.notifyKeyspaceEvents, (v) => (v === '' ? 'off' : v))],
      ['max bulk length', unknownIfNull(result.protoMaxBulkLen, formatBytes)],
      [
        'modules',
        result.modules.length ? result.modules.map((m) => `${m.name} ${m.version}`).join(', ') : 'none',
      ],
      ...(result.moduleKeys ? [['module keys', moduleKeysText(result.moduleKeys)] as [string, string]] : []),
      [
        'functions',
        result.functionLibraries === null
          ? 'none (before Redis 7) or unknown'
          : `${result.functionLibraries} librar${result.functionLibraries === 1 ? 'y' : 'ies'}`,
      ],
      ...(result.fieldTtls ? [['hash field TTLs', describeFieldTtls(result.fieldTtls)]] : []),
    ]),
  );

  if (result.cluster) lines.push('', ...clusterLines(result.cluster));

  lines.push('', `Databases (${unknownIfNull(result.configuredDatabases, String)} configured)`);
  if (result.databases.length === 0) lines.push('  no keys');
  else {
    const rows = [['db', 'keys', 'with TTL', 'avg TTL']];
    for (const d of result.databases) {
      rows.push([
        String(d.db),
        count(d.keys),
        count(d.expires),
        d.avgTtlMs ? formatDuration(d.avgTtlMs / 1000) : '-',
      ]);
    }
    if (result.databases.length > 1)
      rows.push(['all', count(result.totalKeys), count(result.totalExpires), '']);
    lines.push(...table(rows, [1, 2, 3]));
  }

  lines.push('', 'Commands');
  lines.push(
    ...table(
      PROBED_COMMANDS.map((name) => {
        const c = result.commands[name];
        return [c.available ? '✓' : '✗', name, c.available ? '' : (c.reason ?? 'not available')];
      }),
    ),
  );

  if (result.bigKeys) {
    const { sampled } = result.bigKeys;
    const partial = sampled < result.totalKeys;
    const share = partial ? ` of ${count(result.totalKeys)}` : '';
    lines.push('', `Big keys (${count(sampled)}${share} key${sampled === 1 && !partial ? '' : 's'} sampled)`);
    if (partial) {
      const percent = Math.max(1, Math.round((100 * sampled) / result.totalKeys));
      lines.push(`  a ${percent}% sample: a big key outside it is not listed`);
    }
    if (result.bigKeys.keys.length === 0) lines.push('  none found');
    else {
      const rows = [['db', 'size', 'type', 'elements', 'key']];
      for (const k of result.bigKeys.keys) {
        rows.push([
          String(k.db),
          formatBytes(k.bytes),
          k.type,
          k.elements === undefined ? '-' : count(k.elements),
          k.key,
        ]);
      }
      lines.push(...table(rows, [0, 1, 3]));
    }
  }

  if (result.notes.length > 0) {
    lines.push('', 'Notes');
    for (const note of result.notes) lines.push(`  - ${note}`);
  }
  return lines.join('\n');
}

/** "vectorset: 2 in db 0 (every key looked at)", or "none among 10,000 of 52,000 keys sampled". */
function moduleKeysText(sample: NonNullable<ProbeResult['moduleKeys']>): string {
  const scope =
    sample.sampled >= sample.keys
      ? 'every key looked at'
      : `${count(sample.sampled)} of ${count(sample.keys)} keys sampled`;
  if (sample.types.length === 0) return `none (${scope})`;
  const found = sample.types.map((t) => `${t.type}: ${count(t.keys)} in db ${t.db}`).join(', ');
  return `${found} (${scope})`;
}

/** Shards with their slot ranges, primary (and what it holds) and replicas. */
function clusterLines(cluster: ClusterProbe): string[] {
  const n = cluster.shards.length;
  const lines = [
    `Cluster (${n} shard${n === 1 ? '' : 's'}, from ${cluster.topologyFrom}; keys and memory above and below are sums over the primaries)`,
  ];
  const rows = [['slots', 'primary', 'version', 'keys', 'memory', 'policy', 'replicas']];
  for (const s of cluster.shards) {
    const f = s.primary.facts;
    rows.push([
      `${formatSlotRanges(s.slots)} (${count(s.slotCount)})`,
      s.primary.address + (s.primary.health && s.primary.health !== 'online' ? ` (${s.primary.health})` : ''),
      f.version,
      count(f.keys),
      formatBytes(f.usedBytes),
      f.policy ?? 'unknown',
      s.replicas.length ? s.replicas.map((r) => r.address).join(', ') : 'none',
    ]);
  }
  lines.push(...table(rows, [3]));
  if (cluster.unassignedSlots > 0) lines.push(`  ${count(cluster.unassignedSlots)} slots unassigned`);
  return lines;
}
