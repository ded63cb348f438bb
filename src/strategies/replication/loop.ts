// Detecting an initial sync that restarts again and again, and saying which source settings to
// raise. The source drops a replica whose output buffer (everything written while the snapshot is
// made and sent) outgrows client-output-buffer-limit replica; the replica reconnects, cannot
// resume (the backlog, repl-backlog-size, no longer holds its offset), and a new full sync begins:
// a loop that forks the source each time and never ends by itself.
import type { Redis } from 'ioredis';
import { formatBinaryBytes as formatBytes, formatRedisSize, parseByteSize } from '../../util/byte-size.js';

export interface LoopObservation {
  /** INFO stats sync_full before REPLICAOF and now. */
  syncFullBaseline: number;
  syncFullNow: number;
  /** Source replication stream written while observed (master_repl_offset delta) and over how long. */
  streamBytes: number;
  observedMs: number;
  /** Largest output buffer seen for this replica on the source (CLIENT LIST omem), if known. */
  maxOutputBufferBytes: number | null;
  /** repl_backlog_size from INFO replication. */
  backlogBytes: number | null;
}

export interface BufferLimit {
  hardBytes: number;
  softBytes: number;
  softSeconds: number;
  /** As configured, e.g. "64kb 32kb 1" (sizes in bytes as CONFIG GET prints them). */
  text: string;
}

export interface LoopReport {
  fullSyncs: number;
  message: string;
  settings: {
    'client-output-buffer-limit replica': { current: string | null; suggested: string };
    'repl-backlog-size': { current: string | null; suggested: string };
  };
  writeBytesPerSecond: number;
  maxOutputBufferBytes: number | null;
}

export function fullSyncsSince(o: Pick<LoopObservation, 'syncFullBaseline' | 'syncFullNow'>): number {
  return Math.max(0, o.syncFullNow - o.syncFullBaseline);
}

/** The replica class of `client-output-buffer-limit` ("normal 0 0 0 slave 268435456 67108864 60 ..."). */
export function parseReplicaBufferLimit(value: string): BufferLimit | null {
  const words = value.trim().split(/\s+/);
  for (let i = 0; i + 3 < words.length; i += 4) {
    if (words[i] === 'slave' || words[i] === 'replica') {
      const [hard, soft, secs] = [words[i + 1]!, words[i + 2]!, words[i + 3]!].map(parseByteSize);
      if (hard === null || soft === null || secs === null) return null;
      return {
        hardBytes: hard,
        softBytes: soft,
        softSeconds: secs,
        text: `${formatRedisSize(hard)} ${formatRedisSize(soft)} ${secs}`,
      };
    }
  }
  return null;
}

function roundUpMb(bytes: number): number {
  const mb = 1024 ** 2;
  let out = mb;
  while (out < bytes) out *= 2;
  return out;
}

const DEFAULT_REPLICA_HARD = 256 * 1024 ** 2;

/** Current values from the source, or null when CONFIG GET is refused (managed services). */
export async function readLoopSettings(
  source: Redis,
): Promise<{ bufferLimit: BufferLimit | null; bufferText: string | null; backlog: number | null }> {
  let bufferText: string | null = null;
  let bufferLimit: BufferLimit | null = null;
  let backlog: number | null = null;
  try {
    const reply = (await source.call('CONFIG', 'GET', 'client-output-buffer-limit')) as string[];
    if (reply[1] !== undefined) {
      bufferLimit = parseReplicaBufferLimit(reply[1]);
      bufferText = bufferLimit?.text ?? null;
    }
  } catch {
    // CONFIG refused: the report says the current value is unknown.
  }
  try {
    const reply = (await source.call('CONFIG', 'GET', 'repl-backlog-size')) as string[];
    if (reply[1] !== undefined) backlog = Number(reply[1]);
  } catch {
    backlog = null;
  }
  return { bufferLimit, bufferText, backlog };
}

export function buildLoopReport(
  o: LoopObservation,
  current: { bufferLimit: BufferLimit | null; backlog: number | null },
): LoopReport {
  const fullSyncs = fullSyncsSince(o);
  const seconds = Math.max(1, o.observedMs / 1000);
  const rate = o.streamBytes / seconds;
  // Each attempt lasted about observed/fullSyncs; the buffer must hold what is written in one,
  // with room to spare (x4), and never less than twice what failed nor Redis's default.
  const perAttempt = Math.max(10, seconds / Math.max(1, fullSyncs));
  const hardNow = current.bufferLimit?.hardBytes ?? 0;
  const hard = roundUpMb(Math.max(rate * perAttempt * 4, hardNow * 2, DEFAULT_REPLICA_HARD));
  const soft = Math.max(1024 ** 2, hard / 4);
  const backlogNow = current.backlog ?? o.backlogBytes ?? 0;
  const backlog = roundUpMb(Math.max(rate * 60, backlogNow * 2));
  const suggestedBuffer = `${formatRedisSize(hard)} ${formatRedisSize(soft)} 120`;
  const bufferNow = current.bufferLimit?.text ?? null;
  const backlogText =
    current.backlog !== null
      ? formatRedisSize(current.backlog)
      : o.backlogBytes !== null
        ? formatRedisSize(o.backlogBytes)
        : null;
  const seen =
    o.maxOutputBufferBytes !== null && o.maxOutputBufferBytes > 0
      ? ` (the output buffer for this replica reached ${formatBytes(o.maxOutputBufferBytes)})`
      : '';
  const message =
    `the initial sync keeps restarting: the source started ${fullSyncs} full syncs since REPLICAOF ` +
    `(INFO stats sync_full ${o.syncFullBaseline} -> ${o.syncFullNow}) and the link never stayed up. The source ` +
    `writes about ${formatRate(rate)} to its replication stream, more than it may buffer for a replica while a ` +
    `snapshot is made and sent${seen}. Raise on the source: client-output-buffer-limit replica ` +
    `(now ${bufferNow ? `"${bufferNow}"` : 'unknown: CONFIG GET refused'}) to at least "${suggestedBuffer}", and ` +
    `repl-backlog-size (now ${backlogText ?? 'unknown'}) to at least ${formatRedisSize(backlog)}; ` +
    `e.g. CONFIG SET client-output-buffer-limit "replica ${suggestedBuffer}" and CONFIG SET repl-backlog-size ` +
    `${formatRedisSize(backlog)} (on managed services: their parameter group), or lower the write rate during the sync.`;
  return {
    fullSyncs,
    message,
    settings: {
      'client-output-buffer-limit replica': { current: bufferNow, suggested: suggestedBuffer },
      'repl-backlog-size': { current: backlogText, suggested: formatRedisSize(backlog) },
    },
    writeBytesPerSecond: Math.round(rate),
    maxOutputBufferBytes: o.maxOutputBufferBytes,
  };
}

function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}
