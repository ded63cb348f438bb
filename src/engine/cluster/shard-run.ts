// The walk of one shard, shared by copyShard (DUMP/RESTORE through the batch copier) and
// migrateShard (MIGRATE from the source node): the standalone engine's ScanWalk over the shard's
// node (SCAN pages, a checkpoint of the cursor after each, abort between pages, identity checks),
// the keys of the shard's own slots only, and at the end its slots that moved away during the scan
// read again on their new owner. Who the node is (run id, role, slots) is checked on a resume,
// every 2 s and at the end: a node that restarted, changed role or serves none of the shard's
// slots any more ends the shard incomplete, saying what happened; a target node that restarted
// makes it start over from the first key.
import { printableKey } from '../../probe/printable-key.js';
import { describeEndpoint } from '../../redis/endpoint.js';
import { UserError } from '../../util/errors.js';
import { freshCheckpoint } from '../copy/checkpoint.js';
import { type BatchResult, MAX_BATCHES } from '../copy/context.js';
import { FatalReplyError } from '../copy/errors.js';
import { CopyIdentityCheck } from '../copy/identity-check.js';
import { ScanWalk } from '../copy/scan-walk.js';
import type { CheckpointStore, CopyCheckpoint } from '../copy/types.js';
import { ServerChangedError } from '../identity/index.js';
import { globMatcher } from '../live-sync/glob.js';
import { RespConnection } from '../resp/connection.js';
import { RespError, replyInt, replyText } from '../resp/reply.js';
import { joinedIdentity, nodeAt, nodeIdentity, nodeKeys } from './shard-nodes.js';
import type { ShardCheckpointStore, ShardCopyReport, ShardRunOptions } from './shards.js';
import { keySlot } from './slot.js';
import { movedAway, readSlotOwners, type SlotOwners, slotSet } from './slot-map.js';

export const DEFAULT_BATCH = 500;
const PROGRESS_MS = 250;
/** Rounds of re-reading moved slots before the shard gives up on a slot map that keeps moving. */
const MAX_RESCAN_ROUNDS = 5;

/** A shard's checkpoint: the copy engine's, plus whose it is. */
export interface ShardCheckpoint extends CopyCheckpoint {
  kind: ShardWork['kind'];
  shard: string;
  /** Slots of the shard read again on their new owner (a resharding during the scan). */
  rescannedSlots: number;
}

/** What a shard does with its keys: the page's keys, read on `src` (the shard's node or a new owner). */
export interface ShardWork {
  kind: 'shard-copy' | 'shard-migrate';
  page(src: RespConnection, keys: Buffer[]): Promise<BatchResult>;
}

/** Thrown inside the walk when the shard's node is no longer the one it started with. */
class ShardNodeChanged extends Error {}

export interface ShardConnections {
  src: RespConnection;
  scan: RespConnection;
  targetConns: RespConnection[];
  work: ShardWork;
  sourceDb: number;
  targetDb: number;
  sourceCluster: boolean;
}

export class ShardRun {
  private walk!: ScanWalk<ShardCheckpoint>;
  private readonly mine: Set<number>;
  /** Failed keys of this run, by printable name (the checkpoint keeps names only). */
  private readonly failedKeys = new Map<string, Buffer>();
  private foreign = 0;
  /** The counters a resumed run starts from. */
  private resumedCounters = { keysCopied: 0, keysFailed: 0, keysSkipped: 0 };
  private estimatedKeys: number | null = null;

  constructor(
    private readonly opts: ShardRunOptions & { batchSize?: number; match?: string },
    private readonly c: ShardConnections,
  ) {
    this.mine = slotSet(opts.shard.slots);
  }

  async run(): Promise<Omit<ShardCopyReport, 'redirects'>> {
    const { opts, c } = this;
    const store = opts.checkpoint
      ? checkpointAdapter(opts.checkpoint, opts.shard.id, c.work.kind)
      : undefined;
    const saved = store ? await store.load() : undefined;
    this.estimatedKeys = await nodeKeys(c.src, c.sourceDb).catch(() => null);
    const where = {
      name: `shard ${opts.shard.id} (${opts.shard.readFrom})`,
      redactedUrl: opts.shard.readFrom,
    };
    this.walk = new ScanWalk<ShardCheckpoint>(
      {
        match: opts.match,
        count: opts.batchSize ?? DEFAULT_BATCH,
        pagesInFlight: MAX_BATCHES,
        checkpoint: store,
        signal: opts.signal,
        logger: opts.logger,
        giveUp: (why) => new ShardNodeChanged(`shard ${opts.shard.id} stopped: ${why}`),
        onStartOver: () => {
          this.walk.cp.rescannedSlots = 0;
        },
      },
      new CopyIdentityCheck({ source: where, target: opts.target }, [c.sourceDb], () => this.identities()),
      {
        selectDb: async () => async (command) => {
          const [reply] = await c.scan.exec([command]);
          if (reply instanceof RespError || !Array.isArray(reply)) {
            throw new FatalReplyError('source', 'unavailable', `SCAN failed: ${String(reply)}`);
          }
          return { cursor: replyText(reply[0] ?? null) ?? '0', keys: (reply[1] ?? []) as Buffer[] };
        },
        copyPage: (_db, keys) => this.copyPage(keys),
      },
    );
    let resumed = false;
    try {
      if (saved) {
        resumed = true;
        if (await this.walk.resume(saved)) return this.report(true);
      } else {
        const cp: ShardCheckpoint = {
          ...freshCheckpoint({
            fingerprint: {
              source: describeEndpoint(opts.source),
              target: describeEndpoint(opts.target),
              dbs: [c.sourceDb],
              match: null,
            },
            policy: opts.replace ? 'replace' : 'refuse',
            dbs: [c.sourceDb],
            identity: await this.identities(),
          }),
          kind: c.work.kind,
          shard: opts.shard.id,
          rescannedSlots: 0,
        };
        cp.functionsDone = true; // loaded on every target primary once, outside the shards
        await this.walk.begin(cp);
      }
      this.walk.track(this.estimatedKeys ?? 0, undefined);
      this.resumedCounters = { ...this.walk.cp.counters };
      await this.walk.run(async () => undefined);
      if (this.walk.keysDone && !opts.signal?.aborted && c.sourceCluster) await this.rescanMoved();
      await this.progress(true);
    } catch (err) {
      await this.walk.flush().catch(() => undefined);
      if (err instanceof ShardNodeChanged || err instanceof ServerChangedError) {
        return this.report(false, err.message);
      }
      throw err;
    }
    const complete = this.walk.keysDone && !opts.signal?.aborted;
    this.walk.cp.complete = complete;
    this.walk.save();
    await this.walk.flush();
    this.walk.progress.update(complete ? 'done' : 'keys', c.sourceDb, this.walk.cp.counters, true);
    if (!complete) {
      return this.report(
        false,
        `stopped before the end of the scan${opts.checkpoint ? ': the checkpoint resumes it' : ''}${resumed ? ' (resumed run)' : ''}`,
      );
    }
    return this.report(true);
  }

  /** The keys of one page that belong to the shard's slots, copied. */
  private async copyPage(keys: Buffer[]): Promise<BatchResult> {
    const mine = this.c.sourceCluster ? keys.filter((k) => this.mine.has(keySlot(k))) : keys;
    this.foreign += keys.length - mine.length;
    const result = await this.c.work.page(this.c.src, mine);
    sourceMovedAsSkipped(result);
    this.noteFailures(mine, result);
    this.pageProgress.keysCopied += result.keysCopied;
    this.pageProgress.keysFailed += result.keysFailed;
    this.pageProgress.keysSkipped += result.keysSkipped;
    // Awaited: a caller that reports progress slowly slows the shard rather than piling up calls.
    await this.progress(false);
    return result;
  }

  /** Counted as pages finish (the checkpoint's counters move in page order, a little later). */
  private readonly pageProgress = { keysCopied: 0, keysFailed: 0, keysSkipped: 0 };
  private lastProgress = 0;

  /** Progress at most every PROGRESS_MS (and at the end); the first page reports at once. */
  private async progress(final: boolean): Promise<void> {
    const now = Date.now();
    if (!this.opts.onProgress || (!final && now - this.lastProgress < PROGRESS_MS)) return;
    this.lastProgress = now;
    const base = this.resumedCounters;
    const p = this.pageProgress;
    const counters = final ? this.walk.cp.counters : undefined;
    const copied = counters ? counters.keysCopied : base.keysCopied + p.keysCopied;
    const failed = counters ? counters.keysFailed : base.keysFailed + p.keysFailed;
    const skipped = counters ? counters.keysSkipped : base.keysSkipped + p.keysSkipped;
    await this.opts.onProgress({
      shard: this.opts.shard.id,
      scanned: copied + failed + skipped + this.foreign,
      copied,
      failed,
      estimatedKeys: this.estimatedKeys,
    });
  }

  private noteFailures(keys: Buffer[], result: BatchResult): void {
    if (result.errors.length === 0) return;
    const names = new Set(result.errors.map((e) => e.key));
    for (const k of keys) {
      const name = printableKey(k);
      if (names.has(name)) this.failedKeys.set(name, k);
    }
  }

  /**
   * Who the shard's node and the target are; throws ShardNodeChanged when the node serves none of
   * the shard's slots any more (removed, failed over, all resharded away while it was read).
   */
  private async identities(): Promise<{
    source: Awaited<ReturnType<typeof nodeIdentity>>;
    target: Awaited<ReturnType<typeof nodeIdentity>>;
  }> {
    const { c, opts } = this;
    const [source, target] = await Promise.all([
      nodeIdentity(c.src, [c.sourceDb]),
      joinedIdentity(c.targetConns, c.targetDb),
    ]);
    if (c.sourceCluster && this.mine.size > 0) {
      const owners = await readSlotOwners(c.src, opts.source.host);
      const kept = [...this.mine].some((s) => owners[s] === opts.shard.primary);
      if (!kept) {
        const what =
          opts.shard.readFrom === opts.shard.primary && source.role === 'replica'
            ? `it became a replica of ${source.master ?? 'another node'} (a failover)`
            : 'it was removed from the cluster, failed over, or all its slots moved away';
        throw new ShardNodeChanged(
          `source node ${opts.shard.primary} serves none of shard ${opts.shard.id}'s slots any more: ${what}. ` +
            'The shard is not complete: list the shards again and copy them again (with replace)',
        );
      }
    }
    return { source, target };
  }

  /**
   * The shard's slots that now live on another node (a resharding of the source during the scan):
   * their keys are read there, with CLUSTER GETKEYSINSLOT, until the slot map is the same twice.
   */
  private async rescanMoved(): Promise<void> {
    const { c, opts } = this;
    let owners: SlotOwners = await readSlotOwners(c.src, opts.source.host);
    const matches = opts.match !== undefined ? globMatcher(opts.match) : null;
    for (let round = 0; round < MAX_RESCAN_ROUNDS; round++) {
      const moved = movedAway(this.mine, owners, opts.shard.primary);
      if (moved.size === 0) return;
      for (const [address, slots] of moved) {
        const conn = await RespConnection.open(nodeAt(opts.source, address), { role: 'shard-rescan', db: 0 });
        try {
          for (const slot of slots) {
            const all = await keysInSlot(conn, slot);
            const keys = matches ? all.filter(matches) : all;
            for (let i = 0; i < keys.length; i += opts.batchSize ?? DEFAULT_BATCH) {
              const page = keys.slice(i, i + (opts.batchSize ?? DEFAULT_BATCH));
              const result = await c.work.page(conn, page);
              sourceMovedAsSkipped(result);
              this.noteFailures(page, result);
              this.walk.cp.counters.keysCopied += result.keysCopied;
              this.walk.cp.counters.keysSkipped += result.keysSkipped;
              this.walk.cp.counters.keysFailed += result.keysFailed;
              this.walk.cp.counters.bigKeysChunked += result.bigKeysChunked;
              this.walk.cp.counters.keysByTypeFallback += result.keysByTypeFallback;
              this.walk.cp.counters.bytesCopied += result.bytesCopied;
              this.walk.cp.errors.push(...result.errors);
            }
            this.walk.cp.rescannedSlots++;
          }
        } finally {
          conn.destroy();
        }
      }
      opts.logger.info(
        { shard: opts.shard.id, slots: [...moved.values()].reduce((n, s) => n + s.length, 0) },
        'slots of the shard moved during the scan: read again on their new owner',
      );
      const now = await readSlotOwners(c.src, opts.source.host);
      if (now.every((o, s) => o === owners[s])) return;
      owners = now;
    }
    throw new ShardNodeChanged(
      `the slot map of ${describeEndpoint(opts.source)} kept changing while shard ${opts.shard.id}'s moved slots ` +
        'were read again: the shard is not complete; copy it again once the resharding is over',
    );
  }

  private report(complete: boolean, incompleteReason?: string): Omit<ShardCopyReport, 'redirects'> {
    const cp = this.walk.cp;
    const counters = cp.counters;
    return {
      shard: this.opts.shard.id,
      copied: counters.keysCopied,
      vanished: counters.keysSkipped,
      bigKeys: counters.bigKeysChunked,
      byType: counters.keysByTypeFallback,
      failed: cp.errors.map((e) => ({
        key: this.failedKeys.get(e.key) ?? Buffer.from(e.key),
        reason: e.reason,
      })),
      complete: complete && counters.keysFailed === 0,
      ...(incompleteReason
        ? { incompleteReason }
        : counters.keysFailed > 0
          ? { incompleteReason: `${counters.keysFailed} key(s) could not be copied` }
          : {}),
    };
  }
}

/**
 * A key whose slot left the node between SCAN and its read (the node answers MOVED or ASK: a
 * resharding of the source) is not a failure: its slot is read again on the new owner at the end.
 */
function sourceMovedAsSkipped(result: BatchResult): void {
  const moved = result.errors.filter((e) => SOURCE_REDIRECT.test(e.reason));
  if (moved.length === 0) return;
  result.errors = result.errors.filter((e) => !SOURCE_REDIRECT.test(e.reason));
  result.keysFailed -= moved.length;
  result.keysSkipped += moved.length;
}

/** A source reply redirecting a key: "DUMP: MOVED 12 host:port", MIGRATE's own "MOVED ...". */
const SOURCE_REDIRECT = /^[A-Z]+: (MOVED|ASK) \d+ /;

/** Every key of a slot on its owner (a slot holds 1/16384 of a cluster's keys). */
export async function keysInSlot(conn: RespConnection, slot: number): Promise<Buffer[]> {
  const [count] = await conn.exec([['CLUSTER', 'COUNTKEYSINSLOT', slot]]);
  const n = replyInt(count ?? null) ?? 0;
  if (n === 0) return [];
  const [keys] = await conn.exec([['CLUSTER', 'GETKEYSINSLOT', slot, n]]);
  if (!Array.isArray(keys)) throw new Error(`CLUSTER GETKEYSINSLOT ${slot} failed: ${String(keys)}`);
  return keys as Buffer[];
}

/** The engine's checkpoint store over a shard's: refuses another shard's checkpoint. */
function checkpointAdapter(
  store: ShardCheckpointStore,
  shard: string,
  kind: ShardWork['kind'],
): { load(): Promise<ShardCheckpoint | undefined>; save: CheckpointStore['save'] } {
  return {
    async load() {
      const state = await store.load();
      if (state === null || state === undefined) return undefined;
      const cp = state as Partial<ShardCheckpoint>;
      if (cp.kind !== kind || cp.version !== 1 || !Array.isArray(cp.dbs)) {
        throw new UserError(`the checkpoint of shard ${shard} is not a ${kind} checkpoint (version 1)`);
      }
      if (cp.shard !== shard) {
        throw new UserError(`the checkpoint given to shard ${shard} belongs to shard ${cp.shard}`);
      }
      return cp as ShardCheckpoint;
    },
    save: (cp) => store.save(cp),
  };
}
