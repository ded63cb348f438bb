// migrateKeys: every key of the selected databases, pushed by the source server itself with
// batched `MIGRATE host port "" db timeout COPY REPLACE [AUTH2 user pass | AUTH pass] KEYS ...`
// over SCAN. COPY always: the source is never modified. Resumable like the copy engine (same
// checkpoint shape: SCAN cursor per db + counters, saved after every page) with the same progress
// events. A batch sent again after a resume is harmless (REPLACE). Source and target identities
// are kept and checked as in the copy engine (../copy/identity-check.ts): a source that changed
// stops the run, a target that lost keys makes it start over.
//
// MIGRATE blocks the source (and the target) while a batch moves, so batches stay small. The
// source opens the connection to the target: the target address must be reachable from the
// source, and TLS to the target needs tls-cluster on the source.
import type { Redis } from 'ioredis';
import { CheckpointWriter, checkFingerprint, copyFingerprint } from '../../engine/copy/checkpoint.js';
import { copyFunctions, listLibraries } from '../../engine/copy/functions.js';
import {
  CopyIdentityCheck,
  startOver,
  TargetLost,
  tooManyRestarts,
} from '../../engine/copy/identity-check.js';
import type {
  CheckpointStore,
  CopyCheckpoint,
  CopyProgress,
  CopyReport,
  NonEmptyTargetPolicy,
} from '../../engine/copy/index.js';
import { ProgressTracker } from '../../engine/copy/progress.js';
import { type CopyFingerprint, zeroCounters } from '../../engine/copy/types.js';
import { checkMapping, type DbRemap, targetDbOf, targetDbsOf } from '../../engine/db-mapping.js';
import { clientInfo, readIdentity, type ServerIdentity } from '../../engine/identity/index.js';
import { deleteExtraKeys } from '../../engine/live-sync/index.js';
import { RespConnection } from '../../engine/resp/connection.js';
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
/** How often a run looks at who source and target are (besides a resume and the end). */
const IDENTITY_CHECK_MS = 2000;

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
  const fingerprint = copyFingerprint(source, target, options);
  const saved = (await options.checkpoint?.load()) as MigrateCheckpoint | undefined;
  if (saved) checkFingerprint(saved.fingerprint, fingerprint);
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
  private cp!: MigrateCheckpoint;
  private readonly writer: CheckpointWriter;
  private progress!: ProgressTracker;
  private processedThisRun = 0;
  private readonly address: { host: string; port: number };
  private identity!: CopyIdentityCheck;
  private lastIdentityCheck = Date.now();

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
    this.writer = new CheckpointWriter(options.checkpoint);
    this.address = (options.targetAddress ?? ((t) => ({ host: t.host, port: t.port })))(targetEp);
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
    this.identity = new CopyIdentityCheck(
      { source: this.sourceEp, target: this.targetEp },
      dbs,
      async () => ({
        source: await readIdentity(clientInfo(this.src), dbs),
        target: await readIdentity(clientInfo(this.dst), targetDbsOf(options, dbs)),
      }),
    );
    if (this.saved?.targetPrepared) {
      this.cp = this.saved;
      const lost = await this.identity.resume(this.cp);
      if (lost) this.startOver(lost.lost, lost.now);
      else if (this.cp.complete) return report(this.cp, this.started, true, 0);
    } else {
      await this.prepare(dbs);
    }
    const total = dbs.reduce((n, db) => n + (sourceKeyspace.get(db) ?? 0), 0);
    this.progress = new ProgressTracker(total, this.cp.counters, options.onProgress);

    for (;;) {
      try {
        await this.migrateAll();
        // Before the deletions and before "complete": the same source, a target that kept the keys.
        if (!options.signal?.aborted) await this.checkIdentities('during the copy');
        break;
      } catch (err) {
        if (!(err instanceof TargetLost)) throw err;
        this.startOver(err.reason, err.now);
      }
    }
    const keysDone = this.cp.dbs.every((d) => d.done);
    if (keysDone && options.deleteRemoved && !this.cp.deleteDone && !options.signal?.aborted) {
      for (const db of dbs) {
        this.cp.keysDeleted += await deleteExtraKeys(this.src, this.dst, db, {
          ...(options.remap ? { remap: options.remap } : {}),
          batchSize: options.batchKeys ?? 100,
          signal: options.signal ?? new AbortController().signal,
          ...(options.match ? { match: options.match } : {}),
        });
      }
      this.cp.deleteDone = true;
    }
    this.cp.complete = keysDone && (!options.deleteRemoved || this.cp.deleteDone);
    this.save();
    await this.writer.flush();
    this.progress.update(this.cp.complete ? 'done' : 'keys', null, this.cp.counters, true);
    return report(this.cp, this.started, this.saved !== undefined, this.processedThisRun);
  }

  private async migrateAll(): Promise<void> {
    const { options } = this;
    if (!this.cp.functionsDone && options.functions) {
      this.progress.update('functions', null, this.cp.counters, true);
      await this.copyFunctions(options.functions);
    }
    this.cp.functionsDone = true;
    for (const entry of this.cp.dbs) {
      if (entry.done) continue;
      if (options.signal?.aborted) break;
      await this.migrateDb(entry);
    }
  }

  private async checkIdentities(when: string): Promise<void> {
    this.lastIdentityCheck = Date.now();
    await this.identity.check(this.cp, when);
  }

  /** The target lost what was copied: everything again from the first key (REPLACE). */
  private startOver(reason: string, target: ServerIdentity): void {
    if (!startOver(this.cp, reason, target))
      throw new MigrateError(`MIGRATE stopped: ${tooManyRestarts(reason)}`);
    this.cp.keysDeleted = 0;
    this.cp.deleteDone = false;
    this.options.logger?.warn({ reason }, 'the target lost keys: migrating again from the start');
    this.save();
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
    const now = new Date().toISOString();
    this.cp = {
      version: 1,
      method: 'migrate',
      fingerprint: this.fingerprint,
      policy: options.onNonEmptyTarget,
      targetPrepared: true,
      dbs: dbs.map((db) => ({ db, cursor: '0', done: false })),
      functionsDone: false,
      functions: null,
      counters: zeroCounters(),
      keysDeleted: 0,
      deleteDone: false,
      complete: false,
      errors: [],
      errorsOmitted: 0,
      startedAt: now,
      updatedAt: now,
      identity: await this.identity.capture(),
      restarts: [],
    };
    this.save();
    // Written before any key: a resumed run does not check or flush again.
    await this.writer.flush();
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
    this.save();
  }

  private async migrateDb(entry: CopyCheckpoint['dbs'][number]): Promise<void> {
    const { src, options } = this;
    const batch = options.batchKeys ?? 100;
    await src.select(entry.db);
    let cursor = entry.cursor;
    do {
      if (options.signal?.aborted) return;
      const args: (string | number)[] = [cursor];
      if (options.match) args.push('MATCH', options.match);
      args.push('COUNT', batch);
      const [next, keys] = (await src.callBuffer('SCAN', ...args)) as [Buffer, Buffer[]];
      for (let i = 0; i < keys.length; i += batch) {
        await this.migrateBatch(entry.db, keys.slice(i, i + batch));
      }
      cursor = next.toString();
      entry.cursor = cursor;
      this.save();
      this.progress.update('keys', entry.db, this.cp.counters);
      if (Date.now() - this.lastIdentityCheck >= IDENTITY_CHECK_MS)
        await this.checkIdentities('during the copy');
    } while (cursor !== '0');
    entry.done = true;
    this.save();
  }

  private async migrateBatch(db: number, keys: Buffer[]): Promise<void> {
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
        this.cp.counters.keysCopied += present;
        this.cp.counters.keysSkipped += n - present;
        this.processedThisRun += n;
        return;
      }
      if (kind === 'nokey') {
        this.cp.counters.keysSkipped += n;
        this.processedThisRun += n;
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

  private save(): void {
    const cp = this.cp;
    cp.updatedAt = new Date().toISOString();
    this.writer.save({
      ...cp,
      dbs: cp.dbs.map((d) => ({ ...d })),
      counters: { ...cp.counters },
      errors: cp.errors.slice(),
    });
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
  const durationMs = Date.now() - started;
  return {
    ...cp.counters,
    keysDeleted: cp.keysDeleted ?? 0,
    dbs: cp.dbs.map((d) => d.db),
    functions: cp.functions,
    errors: cp.errors,
    errorsOmitted: cp.errorsOmitted,
    durationMs,
    keysPerSecond: durationMs > 0 ? Math.round((processed * 1000) / durationMs) : 0,
    complete: cp.complete,
    resumed,
    restarts: cp.restarts ?? [],
    ...(cp.identity ? { identity: cp.identity } : {}),
  };
}
