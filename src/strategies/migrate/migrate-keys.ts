// migrateKeys: every key of the selected databases, pushed by the source server itself with
// batched `MIGRATE host port "" db timeout COPY REPLACE [AUTH2 user pass | AUTH pass] KEYS ...`
// over SCAN. COPY always: the source is never modified. The walk over the databases is the copy
// engine's (engine/copy/scan-walk.ts: SCAN pages read ahead, the checkpoint after every page,
// progress, abort, identity checks), so the checkpoint has the copy's shape plus what MIGRATE adds
// (the final pass's deletions). A batch sent again after a resume is harmless (REPLACE). A source
// that changed stops the run, a target that lost keys makes it start over. A dropped connection
// ends the run: the step retries from the checkpoint.
//
// MIGRATE blocks the source (and the target) while a batch moves, so batches stay small. The
// source opens the connection to the target: the target address must be reachable from the
// source, and TLS to the target needs tls-cluster on the source.
import type { Redis } from 'ioredis';
import { freshCheckpoint, loadResumePoint } from '../../engine/copy/checkpoint.js';
import { copyFunctions, listLibraries } from '../../engine/copy/functions.js';
import { CopyIdentityCheck } from '../../engine/copy/identity-check.js';
import type {
  CheckpointStore,
  CopyCheckpoint,
  CopyProgress,
  CopyReport,
  NonEmptyTargetPolicy,
} from '../../engine/copy/index.js';
import { type PageResult, ScanWalk, walkReport } from '../../engine/copy/scan-walk.js';
import { type CopyFingerprint, zeroCounters } from '../../engine/copy/types.js';
import { checkMapping, type DbRemap, targetDbOf, targetDbsOf } from '../../engine/db-mapping.js';
import { clientInfo, readIdentity } from '../../engine/identity/index.js';
import { deleteExtraKeys } from '../../engine/live-sync/index.js';
import { RespConnection } from '../../engine/resp/connection.js';
import type { ScanCommand, ScanPage } from '../../engine/scan-pages.js';
import { connect } from '../../redis/connect.js';
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { backoffMs, RETRY_BACKOFF } from '../../util/backoff.js';
import { ExitCode, UserError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { sleep } from '../../util/sleep.js';
import { classifyMigrateReply, cleanMessage, migrateArgs } from './command.js';

export interface MigrateOptions {
  dbs: 'all' | number[];
  /** Source db -> another target db (engine/db-mapping.ts): MIGRATE's destination-db argument. */
  remap?: DbRemap;
  match?: string;
  /** Checked (refuse) or applied (flush) once before the first key, unless prepareTarget is false. */
  onNonEmptyTarget: NonEmptyTargetPolicy;
  /** False for a final pass over a target that already holds the first pass (default true). */
  prepareTarget?: boolean;
  /** After the keys: delete target keys (matching the selection) that the source no longer has. */
  deleteRemoved?: boolean;
  /** Keys per MIGRATE call (default 100). */
  batchKeys?: number;
  /** MIGRATE's own I/O timeout towards the target (default 10 s). */
  timeoutMs?: number;
  /** Redis 7 functions (FUNCTION DUMP/RESTORE from this worker); null or absent: not copied. */
  functions?: 'APPEND' | 'REPLACE' | 'FLUSH' | null;
  /** Tries of a batch that ends in IOERR before the run stops (default 3). */
  maxIoRetries?: number;
  checkpoint?: CheckpointStore;
  onProgress?: (p: CopyProgress) => void;
  signal?: AbortSignal;
  logger?: Logger;
  /** The target address as the *source* reaches it (default: the target endpoint's host and port). */
  targetAddress?: (target: Endpoint) => { host: string; port: number };
}

export interface MigrateCheckpoint extends CopyCheckpoint {
  method: 'migrate';
  keysDeleted: number;
  deleteDone: boolean;
}

export interface MigrateReport extends CopyReport {
  keysDeleted: number;
}

/** MIGRATE failed in a way a retry of the step will not fix without a change (auth, network path, OOM). */
export class MigrateError extends UserError {
  constructor(message: string) {
    super(message, ExitCode.problem);
    this.name = 'MigrateError';
  }
}

const FUNCTION_POLICY: Record<'APPEND' | 'REPLACE' | 'FLUSH', NonEmptyTargetPolicy> = {
  APPEND: 'refuse',
  REPLACE: 'replace',
  FLUSH: 'flush',
};

export async function migrateKeys(
  source: Endpoint,
  target: Endpoint,
  options: MigrateOptions,
): Promise<MigrateReport> {
  const started = Date.now();
  const { fingerprint, saved } = await loadResumePoint<MigrateCheckpoint>(source, target, options);
  const src = await connect(source, { role: 'migrate-source' });
  let dst: Redis | undefined;
  try {
    dst = await connect(target, { role: 'migrate-target' });
    return await new MigrateRun(source, target, src, dst, options, fingerprint, saved, started).run();
  } finally {
    src.disconnect();
    dst?.disconnect();
  }
}

class MigrateRun {
  private walk!: ScanWalk<MigrateCheckpoint>;
  private readonly address: { host: string; port: number };

  constructor(
    private readonly sourceEp: Endpoint,
    private readonly targetEp: Endpoint,
    private readonly src: Redis,
    private readonly dst: Redis,
    private readonly options: MigrateOptions,
    private readonly fingerprint: CopyFingerprint,
    private readonly saved: MigrateCheckpoint | undefined,
    private readonly started: number,
  ) {
    this.address = (options.targetAddress ?? ((t) => ({ host: t.host, port: t.port })))(targetEp);
  }

  private get cp(): MigrateCheckpoint {
    return this.walk.cp;
  }

  async run(): Promise<MigrateReport> {
    const { options } = this;
    await this.checkTls();
    checkMapping(options);
    const sourceKeyspace = await keyspace(this.src);
    const dbs = this.saved
      ? this.saved.dbs.map((d) => d.db)
      : options.dbs === 'all'
        ? [...sourceKeyspace.keys()].sort((a, b) => a - b)
        : [...new Set(options.dbs)].sort((a, b) => a - b);
    const batchKeys = options.batchKeys ?? 100;
    this.walk = new ScanWalk(
      {
        match: options.match,
        count: batchKeys,
        // MIGRATE blocks the source while a batch moves: one page at a time.
        pagesInFlight: 1,
        checkpoint: options.checkpoint,
        signal: options.signal,
        logger: options.logger,
        giveUp: (why) => new MigrateError(`MIGRATE stopped: ${why}`),
        onStartOver: () => {
          this.cp.keysDeleted = 0;
          this.cp.deleteDone = false;
        },
      },
      new CopyIdentityCheck({ source: this.sourceEp, target: this.targetEp }, dbs, async () => ({
        source: await readIdentity(clientInfo(this.src), dbs),
        target: await readIdentity(clientInfo(this.dst), targetDbsOf(options, dbs)),
      })),
      {
        selectDb: async (db) => {
          await this.src.select(db);
          return (command) => this.scanPage(command);
        },
        copyPage: (db, keys) => this.migratePage(db, keys, batchKeys),
      },
    );
    if (this.saved?.targetPrepared) {
      if (await this.walk.resume(this.saved)) return report(this.cp, this.started, true, 0);
    } else {
      await this.prepare(dbs);
    }
    const total = dbs.reduce((n, db) => n + (sourceKeyspace.get(db) ?? 0), 0);
    this.walk.track(total, options.onProgress);

    // Ends with a look at both servers, before the deletions and before "complete".
    await this.walk.run(() => this.functionsFirst());
    const keysDone = this.walk.keysDone;
    if (keysDone && options.deleteRemoved && !this.cp.deleteDone && !options.signal?.aborted) {
      for (const db of dbs) {
        this.cp.keysDeleted += await deleteExtraKeys(this.src, this.dst, db, {
          ...(options.remap ? { remap: options.remap } : {}),
          batchSize: batchKeys,
          signal: options.signal ?? new AbortController().signal,
          ...(options.match ? { match: options.match } : {}),
        });
      }
      this.cp.deleteDone = true;
    }
    this.cp.complete = keysDone && (!options.deleteRemoved || this.cp.deleteDone);
    this.walk.save();
    await this.walk.flush();
    this.walk.progress.update(this.cp.complete ? 'done' : 'keys', null, this.cp.counters, true);
    return report(this.cp, this.started, this.saved !== undefined, this.walk.processedThisRun);
  }

  /** MIGRATE speaks TLS to the target only with tls-cluster yes on the source. */
  private async checkTls(): Promise<void> {
    if (!this.targetEp.tls) return;
    let value: string | undefined;
    try {
      value = ((await this.src.call('CONFIG', 'GET', 'tls-cluster')) as string[])[1];
    } catch {
      this.options.logger?.warn('cannot read tls-cluster on the source; trying MIGRATE over TLS anyway');
      return;
    }
    if (value !== 'yes') {
      throw new MigrateError(
        `the target ${describeEndpoint(this.targetEp)} speaks TLS, but MIGRATE from the source uses TLS only with ` +
          'tls-cluster yes on the source (and the source needs a client certificate the target accepts)',
      );
    }
  }

  private async prepare(dbs: number[]): Promise<void> {
    const { options, dst } = this;
    if (options.prepareTarget !== false) {
      const targetKeyspace = await keyspace(dst);
      // Target database numbers (under a remap, the one the source db is copied into).
      const busy = dbs.map((db) => targetDbOf(options, db)).filter((db) => (targetKeyspace.get(db) ?? 0) > 0);
      if (options.onNonEmptyTarget === 'refuse' && busy.length > 0) {
        const parts = busy.map((db) => `db${db} has ${targetKeyspace.get(db)} keys`);
        throw new MigrateError(
          `target ${describeEndpoint(this.targetEp)} is not empty: ${parts.join(', ')}; choose replace or flush`,
        );
      }
      if (options.onNonEmptyTarget === 'flush') {
        for (const db of busy) {
          await dst.select(db);
          await dst.call('FLUSHDB');
          options.logger?.info({ db }, 'flushed target database');
        }
      }
    }
    const identity = await this.walk.identity.capture();
    // Written before any key: a resumed run does not check or flush again.
    await this.walk.begin({
      ...freshCheckpoint({ fingerprint: this.fingerprint, policy: options.onNonEmptyTarget, dbs, identity }),
      method: 'migrate',
      keysDeleted: 0,
      deleteDone: false,
    });
  }

  /** What comes before the keys: the functions (once; a start-over copies them again). */
  private async functionsFirst(): Promise<void> {
    if (!this.cp.functionsDone && this.options.functions) {
      this.walk.progress.update('functions', null, this.cp.counters, true);
      await this.copyFunctions(this.options.functions);
    }
    this.cp.functionsDone = true;
  }

  private async copyFunctions(policy: 'APPEND' | 'REPLACE' | 'FLUSH'): Promise<void> {
    const src = await RespConnection.open(this.sourceEp, { role: 'migrate-functions' });
    try {
      const dst = await RespConnection.open(this.targetEp, { role: 'migrate-functions' });
      try {
        const sourceLibs = await listLibraries(src);
        if (sourceLibs !== null) {
          const targetLibs = await listLibraries(dst);
          // A resumed run may have restored them already: replace its own copies.
          const p = FUNCTION_POLICY[policy];
          const effective = this.saved && p === 'refuse' ? 'replace' : p;
          this.cp.functions = await copyFunctions(src, dst, effective, sourceLibs, targetLibs);
        }
      } finally {
        await dst.close().catch(() => dst.destroy());
      }
    } finally {
      await src.close().catch(() => src.destroy());
    }
    this.cp.functionsDone = true;
    this.walk.save();
  }

  private async scanPage(command: ScanCommand): Promise<ScanPage> {
    const [name, ...args] = command;
    const [next, keys] = (await this.src.callBuffer(String(name), ...args)) as [Buffer, Buffer[]];
    return { cursor: next.toString(), keys };
  }

  /** A SCAN page may hold more keys than COUNT: MIGRATE takes them batchKeys at a time. */
  private async migratePage(db: number, keys: Buffer[], batchKeys: number): Promise<PageResult> {
    const result: PageResult = { ...zeroCounters(), errors: [] };
    for (let i = 0; i < keys.length; i += batchKeys) {
      await this.migrateBatch(db, keys.slice(i, i + batchKeys), result);
    }
    return result;
  }

  private async migrateBatch(db: number, keys: Buffer[], result: PageResult): Promise<void> {
    if (keys.length === 0) return;
    const { src, options } = this;
    // MIGRATE's KEYS form skips missing keys silently: count them first, for honest counters.
    const present = Number(await src.call('EXISTS', ...keys));
    const args = migrateArgs(this.targetEp, {
      ...this.address,
      db: targetDbOf(options, db),
      timeoutMs: options.timeoutMs ?? 10_000,
      keys,
    });
    const maxTries = Math.max(1, options.maxIoRetries ?? 3);
    for (let attempt = 1; ; attempt++) {
      let reply: unknown;
      try {
        reply = await src.callBuffer('MIGRATE', ...args);
      } catch (err) {
        reply = err instanceof Error ? err : new Error(String(err));
      }
      const { kind, message } = classifyMigrateReply(reply);
      const n = keys.length;
      if (kind === 'ok') {
        result.keysCopied += present;
        result.keysSkipped += n - present;
        return;
      }
      if (kind === 'nokey') {
        result.keysSkipped += n;
        return;
      }
      const where = `${this.address.host}:${this.address.port}`;
      if (kind === 'ioerr' && attempt < maxTries) {
        options.logger?.warn({ db, attempt, err: message }, 'MIGRATE IOERR; retrying the batch');
        await sleep(backoffMs(attempt, RETRY_BACKOFF), options.signal);
        continue;
      }
      if (kind === 'ioerr') {
        throw new MigrateError(
          `MIGRATE to ${where} failed ${attempt} times (${message}): the source server opens that connection, ` +
            'so the target must be reachable from the source at this address',
        );
      }
      if (isConnectionError(reply)) throw reply as Error;
      throw new MigrateError(`MIGRATE to ${describeEndpoint(this.targetEp)} (${where}) failed: ${message}`);
    }
  }
}

/** A dropped connection to the source (not a MIGRATE reply): the step retries from the checkpoint. */
function isConnectionError(reply: unknown): boolean {
  if (!(reply instanceof Error)) return false;
  const code = (reply as NodeJS.ErrnoException).code;
  return Boolean(code) || /connection|socket|closed/i.test(cleanMessage(reply));
}

async function keyspace(client: Redis): Promise<Map<number, number>> {
  const text = (await client.call('INFO', 'keyspace')) as string;
  const out = new Map<number, number>();
  for (const m of text.matchAll(/^db(\d+):keys=(\d+)/gm)) out.set(Number(m[1]), Number(m[2]));
  return out;
}

function report(cp: MigrateCheckpoint, started: number, resumed: boolean, processed: number): MigrateReport {
  return { ...walkReport(cp, started, cp.complete, resumed, processed), keysDeleted: cp.keysDeleted ?? 0 };
}
