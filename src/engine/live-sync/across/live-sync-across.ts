// Live sync with a Redis Cluster on either side. Keyspace notifications are node-local in a
// cluster (each primary publishes only its own keys' events), so this follows every source
// primary with a LiveSync of its own (the same engine: subscriber, dirty set, apply loop, silent
// drops, identity watch of that node, notify-keyspace-events set and restored per node), each with
// the across-topology copier (reads from that node, writes where the slot lives on the target) and
// the across-topology reconcile pass (that node's keys only). A standalone source is one such node.
//
// What the nodes cannot see alone, this watches: the source's slot layout (a failover or a
// resharding on the source moves slots away from the subscriber that followed them) fails live
// sync for good, checked on a timer and before every drain. drain() is every node's barrier; one
// node failing fails the whole (onError once, the others stopped).
import type { Endpoint } from '../../../redis/endpoint.js';
import { describeEndpoint } from '../../../redis/endpoint.js';
import { errorMessage, UserError } from '../../../util/errors.js';
import { keySlot } from '../../cluster/slot.js';
import type { ServerIdentity } from '../../identity/index.js';
import { LiveSync } from '../live-sync.js';
import { LiveSyncError } from '../live-sync-error.js';
import type { LiveSyncOptions } from '../options.js';
import type { DrainReport, LiveSyncReport, LiveSyncStatus } from '../status.js';
import { acrossCopier } from './copier.js';
import { reconcileAcross } from './reconcile.js';
import { readSide, type SideTopology } from './topology.js';

export interface LiveSyncAcrossOptions
  extends Omit<LiveSyncOptions, 'dbs' | 'remap' | 'copier' | 'across' | 'sourceIdentity' | 'onStatus'> {
  /** The one source db followed (a cluster has db 0 only; default 0). */
  sourceDb?: number;
  /** The db written on a standalone target (a cluster has db 0 only; default 0). */
  targetDb?: number;
  /** Who each source node (`host:port`) was when the migration started (see sourceIdentities()). */
  sourceIdentities?: Record<string, ServerIdentity>;
  /** How often the source's slot layout is read again (default 2000 ms; 0 = only before drains). */
  layoutCheckIntervalMs?: number;
}

export interface NodeReport {
  node: string;
  report: LiveSyncReport;
}

export class LiveSyncAcross {
  private source: SideTopology | undefined;
  private readonly nodes = new Map<string, LiveSync>();
  private failure: LiveSyncError | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly where: string;

  constructor(
    private readonly sourceEndpoint: Endpoint,
    private readonly targetEndpoint: Endpoint,
    private readonly options: LiveSyncAcrossOptions,
  ) {
    this.where = describeEndpoint(sourceEndpoint);
  }

  /** Reads both topologies, then starts following every source node; resolves once all follow. */
  async start(): Promise<void> {
    if (this.source) throw new Error('LiveSyncAcross.start() can only be called once');
    const [source, target] = await Promise.all([
      readSide(this.sourceEndpoint),
      readSide(this.targetEndpoint),
    ]);
    this.source = source;
    if (!source.cluster && !target.cluster) {
      throw new UserError('neither side is a cluster: use LiveSync, which follows one server to another');
    }
    const sourceDb = source.cluster ? 0 : (this.options.sourceDb ?? 0);
    const targetDb = target.cluster ? 0 : (this.options.targetDb ?? 0);
    for (const node of source.nodes) {
      const copier = acrossCopier(
        node.endpoint,
        this.targetEndpoint,
        target.holders,
        targetDb,
        this.options.logger,
      );
      const baseline = this.options.sourceIdentities?.[node.address];
      const {
        sourceDb: _s,
        targetDb: _t,
        sourceIdentities: _i,
        layoutCheckIntervalMs: _l,
        ...shared
      } = this.options;
      const options: LiveSyncOptions = {
        ...shared,
        dbs: [sourceDb],
        copier,
        ...(baseline ? { sourceIdentity: baseline } : {}),
        onError: (err) => this.fail(err, node.address),
        across: {
          clusterNode: source.cluster,
          canaryTag: node.slots ? tagIn(node.slots) : undefined,
          reconcile: (signal, beforeDeletes) =>
            reconcileAcross(copier, {
              sourceSlots: node.slots,
              sourceDb,
              targetNodes: target.nodes,
              targetDb,
              match: this.options.match,
              batchSize: this.options.batchSize ?? 512,
              signal,
              beforeDeletes,
            }),
        },
      };
      this.nodes.set(node.address, new LiveSync(node.endpoint, this.targetEndpoint, options));
    }
    const started = await Promise.allSettled([...this.nodes.values()].map((ls) => ls.start()));
    const refused = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (refused) {
      await Promise.all([...this.nodes.values()].map((ls) => ls.stop().catch(() => undefined)));
      throw refused.reason;
    }
    const every = this.options.layoutCheckIntervalMs ?? 2000;
    if (source.cluster && every > 0) {
      this.timer = setInterval(() => void this.checkLayout().catch(() => undefined), every).unref();
    }
    this.options.logger?.info(
      { source: this.where, nodes: [...this.nodes.keys()] },
      'live sync following every source node',
    );
  }

  /** The source nodes followed (`host:port`). */
  nodeAddresses(): string[] {
    return [...this.nodes.keys()];
  }

  /** Each source node's identity as its live sync checks it (to be kept by whoever resumes). */
  sourceIdentities(): Record<string, ServerIdentity> {
    const out: Record<string, ServerIdentity> = {};
    for (const [address, ls] of this.nodes) {
      const id = ls.sourceIdentity();
      if (id) out[address] = id;
    }
    return out;
  }

  /** The first source node's identity (the one a follower's admin connection reads). */
  sourceIdentity(): ServerIdentity | undefined {
    return this.nodes.values().next().value?.sourceIdentity();
  }

  startApplying(): void {
    for (const ls of this.nodes.values()) ls.startApplying();
  }

  /**
   * The cutover barrier on every source node (each is paused by then): the slot layout is read
   * first (a slot that moved was followed by nobody), then every node drains. Resolves when all
   * did; the duration is the slowest node's.
   */
  async drain(
    options: { timeoutMs?: number } = {},
  ): Promise<DrainReport & { perNode: Record<string, DrainReport> }> {
    if (this.failure) throw this.failure;
    await this.checkLayout();
    const entries = [...this.nodes];
    const reports = await Promise.all(entries.map(([, ls]) => ls.drain(options)));
    const perNode: Record<string, DrainReport> = {};
    entries.forEach(([address], i) => {
      perNode[address] = reports[i]!;
    });
    return {
      durationMs: Math.max(0, ...reports.map((r) => r.durationMs)),
      keysApplied: reports.reduce((n, r) => n + r.keysApplied, 0),
      perNode,
    };
  }

  /** Stops every node's live sync; consistent only when every node's was. */
  async stop(): Promise<LiveSyncReport & { perNode: NodeReport[] }> {
    if (this.timer) clearInterval(this.timer);
    const entries = [...this.nodes];
    const reports = await Promise.all(entries.map(([, ls]) => ls.stop()));
    const perNode = entries.map(([node], i) => ({ node, report: reports[i]! }));
    const merged = mergeStatus(reports);
    return {
      ...merged,
      consistent: this.failure === null && reports.every((r) => r.consistent),
      restoredNotifyConfig:
        reports.find((r) => r.restoredNotifyConfig !== null)?.restoredNotifyConfig ?? null,
      perNode,
      ...(this.failure ? { lastError: this.failure.message, state: 'failed' as const } : {}),
    };
  }

  /** The nodes' statuses added up (the oldest pending change, the worst state). */
  status(): LiveSyncStatus {
    const merged = mergeStatus([...this.nodes.values()].map((ls) => ls.status()));
    return this.failure ? { ...merged, state: 'failed', lastError: this.failure.message } : merged;
  }

  /** Each node's status, by `host:port`. */
  statusByNode(): Record<string, LiveSyncStatus> {
    const out: Record<string, LiveSyncStatus> = {};
    for (const [address, ls] of this.nodes) out[address] = ls.status();
    return out;
  }

  private async checkLayout(): Promise<void> {
    const baseline = this.source;
    if (!baseline?.cluster || this.failure) return;
    let now: SideTopology;
    try {
      now = await readSide(this.sourceEndpoint);
    } catch (err) {
      // An unreachable node shows up in its own live sync (reconnects, then a failure).
      this.options.logger?.debug({ err: errorMessage(err) }, 'source slot layout not read');
      return;
    }
    if (now.layout !== baseline.layout) {
      const err = new LiveSyncError(
        `the slot layout of the source cluster ${this.where} changed during live sync (a failover or a ` +
          `resharding: was "${baseline.layout}", now "${now.layout}"); the keys of the slots that moved were ` +
          'followed by no subscriber, so nothing more was applied to the target. Plan the migration again ' +
          'once the source cluster is stable',
        true,
      );
      this.fail(err, 'the slot layout');
      throw err;
    }
  }

  private fail(err: LiveSyncError, where: string): void {
    if (this.failure) return;
    this.failure = err.message.includes(where)
      ? err
      : new LiveSyncError(`source node ${where}: ${err.message}`, err.final);
    if (this.timer) clearInterval(this.timer);
    for (const ls of this.nodes.values()) void ls.stop().catch(() => undefined);
    this.options.onError?.(this.failure);
  }
}

/** A hash tag whose slot is one of `slots` (the first of mb0, mb1, ...). */
function tagIn(slots: Set<number>): string | undefined {
  if (slots.size === 0) return undefined;
  for (let i = 0; ; i++) if (slots.has(keySlot(Buffer.from(`mb${i}`)))) return `mb${i}`;
}

const STATE_RANK: LiveSyncStatus['state'][] = [
  'failed',
  'aborted',
  'starting',
  'idle',
  'rescanning',
  'stopping',
  'following',
  'stopped',
];

function mergeStatus(all: LiveSyncStatus[]): LiveSyncStatus {
  const sum = (f: (s: LiveSyncStatus) => number) => all.reduce((n, s) => n + f(s), 0);
  const maxOf = (f: (s: LiveSyncStatus) => number | null) => {
    const values = all.map(f).filter((v): v is number => v !== null);
    return values.length ? Math.max(...values) : null;
  };
  const minOf = (f: (s: LiveSyncStatus) => number | null) => {
    const values = all.map(f).filter((v): v is number => v !== null);
    return values.length ? Math.min(...values) : null;
  };
  const state = STATE_RANK.find((st) => all.some((s) => s.state === st)) ?? 'idle';
  return {
    state,
    applying: all.length > 0 && all.every((s) => s.applying),
    eventsReceived: sum((s) => s.eventsReceived),
    keysApplied: sum((s) => s.keysApplied),
    keysDeleted: sum((s) => s.keysDeleted),
    keysFailed: sum((s) => s.keysFailed),
    pendingKeys: sum((s) => s.pendingKeys),
    oldestPendingAgeMs: maxOf((s) => s.oldestPendingAgeMs),
    lastEventAgeMs: minOf((s) => s.lastEventAgeMs),
    reconnects: sum((s) => s.reconnects),
    rescans: sum((s) => s.rescans),
    lastRescanReason: all.find((s) => s.lastRescanReason !== null)?.lastRescanReason ?? null,
    rescanPending: all.some((s) => s.rescanPending),
    extrasDeleted: sum((s) => s.extrasDeleted),
    dirtyOverflows: sum((s) => s.dirtyOverflows),
    silentDropsDetected: sum((s) => s.silentDropsDetected),
    channel: all[0]?.channel ?? 'keyevent',
    lastError: all.find((s) => s.lastError !== null)?.lastError ?? null,
  };
}
