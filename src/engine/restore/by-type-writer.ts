// Writes RDB entries to a target with native commands (HSET, RPUSH, SADD, ZADD, XADD ...), from
// their decoded values (src/engine/rdb/decode): for targets that cannot RESTORE the payloads (an
// RDB version newer than theirs). Same contract as RestoreWriter: pipelined, SELECT when the
// database changes, expired keys skipped, the TTL as an absolute time (PEXPIREAT, SET ... PXAT),
// back-pressure through add()'s promise.
//
// A value of at most SMALL_COMMANDS commands is written inside MULTI/EXEC, so the target never
// shows it half-written or without its TTL. A bigger one streams: its commands go out batch by
// batch as they are decoded (memory stays bounded), its TTL last; if the run stops part way the
// key is partial until the import is run again with --replace (which deletes it first).
import { printableKey } from '../../probe/printable-key.js';
import { FatalReplyError, fatalKind } from '../copy/errors.js';
import { type DecodedPart, decodeValue, FIELD_TTL_TYPES, fieldTtlCount } from '../rdb/decode/index.js';
import type { RdbEntry } from '../rdb/reader.js';
import type { RespConnection } from '../resp/connection.js';
import { type RespArg, RespError, type RespReply } from '../resp/reply.js';
import { fieldExpiryWrites } from '../types/field-ttls.js';
import { emptyStreamCommands, streamMetaCommands } from '../types/stream.js';
import type { TargetFeatures } from '../types/value.js';
import { chunkWriteCommands } from '../types/write.js';
import { type EntryWriter, leftOut } from './entry-writer.js';
import { InFlightWindow } from './in-flight-window.js';
import {
  MAX_REPORTED_KEY_ERRORS,
  type RestoreCounters,
  type RestoreWriterOptions,
} from './restore-writer.js';

const BATCH_COMMANDS = 1000;
const BATCH_BYTES = 4 * 1024 * 1024;
/** Values of up to this many commands go in one MULTI/EXEC. */
export const SMALL_COMMANDS = 64;

export interface ByTypeFeatures extends TargetFeatures {
  /** HPEXPIREAT (Redis 7.4+, Valkey 9+). */
  fieldTtls: boolean;
}

export interface ByTypeWriterOptions extends RestoreWriterOptions {
  features: ByTypeFeatures;
  /** Hashes with field TTLs onto a target without them: persistent fields (else the key fails). */
  dropFieldTtls?: boolean;
}

export interface ByTypeCounters extends RestoreCounters {
  /** Field TTLs not carried over (--drop-field-ttls onto a target without them). */
  fieldTtlsDropped: number;
  /**
   * Pending entries of stream groups whose message is gone from the stream (XDEL, XTRIM after
   * delivery): XCLAIM cannot recreate those, RESTORE keeps them.
   */
  pendingNotRestored: number;
}

interface KeyJob {
  entry: RdbEntry;
  error: string | null;
}

interface Batch {
  cmds: RespArg[][];
  /** Per command: the key it writes (null for SELECT). */
  owners: (KeyJob | null)[];
  /** Per command: the key's last command (its outcome is known once this is answered). */
  last: boolean[];
  bytes: number;
}

const newBatch = (): Batch => ({ cmds: [], owners: [], last: [], bytes: 0 });

export class ByTypeWriter implements EntryWriter {
  readonly counters: ByTypeCounters = {
    keysRestored: 0,
    bytesRestored: 0,
    keysExpired: 0,
    keysSkipped: 0,
    keysFailed: 0,
    perDb: new Map(),
    errors: [],
    errorsOmitted: 0,
    fieldTtlsDropped: 0,
    pendingNotRestored: 0,
  };
  private batch = newBatch();
  private readonly window = new InFlightWindow(() => {
    if (this.failure) throw this.failure;
  });
  private db: number;
  private failure: unknown;
  private readonly wanted: Set<number> | null;
  private readonly now: () => number;

  constructor(
    private readonly dst: RespConnection,
    private readonly options: ByTypeWriterOptions,
  ) {
    this.db = dst.db;
    this.wanted = options.dbs && options.dbs !== 'all' ? new Set(options.dbs) : null;
    this.now = options.now ?? Date.now;
  }

  add(entry: RdbEntry): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    if (leftOut(entry, this.wanted, this.now, this.counters)) return undefined;
    const job: KeyJob = { entry, error: null };
    const refusal = this.fieldTtlRefusal(entry);
    if (refusal) {
      this.fail(job, refusal);
      return undefined;
    }
    if (entry.db !== this.db) {
      this.pushCommand(['SELECT', entry.db], null, false);
      this.db = entry.db;
      this.dst.db = entry.db;
    }
    const parts = decodeValue(entry);
    const state: ValueState = { streamEntries: 0 };
    const head: RespArg[][] = [];
    try {
      for (;;) {
        const next = parts.next();
        if (next.done) return this.writeSmall(job, head);
        head.push(...this.partCommands(entry, next.value, state));
        if (head.length > SMALL_COMMANDS) break;
      }
    } catch (err) {
      this.fail(job, `cannot decode the value: ${(err as Error).message}`);
      return this.maybeSend();
    }
    return this.writeBig(job, head, parts, state);
  }

  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.batch.cmds.length > 0) await this.send();
    await this.window.drain();
    if (this.failure) throw this.failure;
  }

  async settle(): Promise<void> {
    await this.window.settle();
  }

  /** Why a hash with field TTLs cannot go to this target, or null. Counts what is dropped. */
  private fieldTtlRefusal(entry: RdbEntry): string | null {
    if (this.options.features.fieldTtls || !FIELD_TTL_TYPES.has(entry.type)) return null;
    let count: number;
    try {
      count = fieldTtlCount(entry);
    } catch (err) {
      return `cannot decode the value: ${(err as Error).message}`;
    }
    if (count === 0) return null;
    if (this.options.dropFieldTtls) {
      this.counters.fieldTtlsDropped += count;
      return null;
    }
    return (
      `the hash has ${count} field${count === 1 ? '' : 's'} with a TTL (HPEXPIRE) and the target has no field TTLs ` +
      '(Redis < 7.4, Valkey < 9): not written. Use --drop-field-ttls to import them as persistent fields'
    );
  }

  private writeSmall(job: KeyJob, value: RespArg[][]): Promise<void> | undefined {
    const { entry } = job;
    const body: RespArg[][] = [];
    if (this.options.replace && entry.type !== 0) body.push(['DEL', entry.key]);
    body.push(...value, ...this.ttlCommands(entry));
    // One command (a string's SET ... PXAT) is atomic by itself.
    const cmds = body.length === 1 ? body : [['MULTI'], ...body, ['EXEC']];
    cmds.forEach((cmd, i) => {
      this.pushCommand(cmd, job, i === cmds.length - 1);
    });
    return this.maybeSend();
  }

  private async writeBig(
    job: KeyJob,
    head: RespArg[][],
    parts: Generator<DecodedPart>,
    state: ValueState,
  ): Promise<void> {
    const { entry } = job;
    if (this.options.replace) await this.push(['DEL', entry.key], job, false);
    for (const cmd of head) await this.push(cmd, job, false);
    try {
      for (const part of iterate(parts)) {
        for (const cmd of this.partCommands(entry, part, state)) await this.push(cmd, job, false);
      }
    } catch (err) {
      if (err === this.failure) throw err;
      // Leave no partial value behind a key that is reported failed.
      job.error ??= `cannot decode the value: ${(err as Error).message}`;
      await this.push(['DEL', entry.key], job, true);
      return;
    }
    const ttl = this.ttlCommands(entry);
    if (ttl.length > 0) await this.push(ttl[0]!, job, true);
    else await this.push(['PING'], job, true);
  }

  /** The TTL, for every type but strings (whose SET carries it). */
  private ttlCommands(entry: RdbEntry): RespArg[][] {
    if (entry.expireAtMs === null || entry.type === 0) return [];
    return [['PEXPIREAT', entry.key, entry.expireAtMs]];
  }

  private partCommands(entry: RdbEntry, part: DecodedPart, state: ValueState): RespArg[][] {
    const key = entry.key;
    const features = this.options.features;
    switch (part.kind) {
      case 'chunk':
        if (part.chunk.type === 'string') {
          const set: RespArg[] = ['SET', key, part.chunk.value];
          if (entry.expireAtMs !== null) set.push('PXAT', entry.expireAtMs);
          return [set];
        }
        if (part.chunk.type === 'stream') state.streamEntries += part.chunk.entries.length;
        return chunkWriteCommands(key, part.chunk);
      case 'field-ttls':
        return features.fieldTtls ? fieldExpiryWrites(key, part.fields, part.expiresAt) : [];
      case 'stream-meta': {
        const cmds = state.streamEntries === 0 ? emptyStreamCommands(key) : [];
        cmds.push(...streamMetaCommands(key, part.meta, features));
        return cmds;
      }
      case 'stream-group': {
        const g = part.group;
        const create: RespArg[] = ['XGROUP', 'CREATE', key, g.name, g.lastDeliveredId];
        if (features.streamCounters && g.entriesRead !== null) create.push('ENTRIESREAD', g.entriesRead);
        const cmds: RespArg[][] = [create];
        if (features.createConsumer) {
          for (const c of g.consumers) cmds.push(['XGROUP', 'CREATECONSUMER', key, g.name, c]);
        }
        return cmds;
      }
      case 'pending':
        // TIME sets the last delivery to the source's (absolute) time; RETRYCOUNT its count;
        // JUSTID leaves the count alone. An id no longer in the stream is not recreated.
        return part.entries.map((p) => [
          'XCLAIM',
          key,
          part.group,
          p.consumer,
          0,
          p.id,
          'TIME',
          p.deliveryTimeMs,
          'RETRYCOUNT',
          p.deliveries,
          'FORCE',
          'JUSTID',
        ]);
    }
  }

  private fail(job: KeyJob, reason: string): void {
    job.error = reason;
    this.finish(job);
  }

  private pushCommand(cmd: RespArg[], owner: KeyJob | null, last: boolean): void {
    const b = this.batch;
    b.cmds.push(cmd);
    b.owners.push(owner);
    b.last.push(last);
    for (const arg of cmd) if (Buffer.isBuffer(arg)) b.bytes += arg.length;
  }

  private push(cmd: RespArg[], owner: KeyJob | null, last: boolean): Promise<void> | undefined {
    this.pushCommand(cmd, owner, last);
    return this.maybeSend();
  }

  private maybeSend(): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    const b = this.batch;
    if (b.cmds.length >= BATCH_COMMANDS || b.bytes >= BATCH_BYTES) return this.send();
    return undefined;
  }

  private send(): Promise<void> | undefined {
    const batch = this.batch;
    this.batch = newBatch();
    const done = this.dst.exec(batch.cmds).then(
      (replies) => this.account(batch, replies),
      (err) => {
        this.failure ??= err;
      },
    );
    return this.window.push(done, batch.bytes);
  }

  private account(batch: Batch, replies: RespReply[]): void {
    let multiAt = -1;
    for (let i = 0; i < batch.cmds.length; i++) {
      const cmd = batch.cmds[i]!;
      const owner = batch.owners[i];
      const reply = replies[i];
      if (owner === null || owner === undefined) {
        if (reply instanceof RespError) {
          this.failure ??= new FatalReplyError(
            'target',
            'unavailable',
            `SELECT ${String(cmd[1])} failed (${reply.message}): the target has fewer databases ` +
              'than the RDB uses (its databases setting), or this user may not SELECT',
          );
          return;
        }
        continue;
      }
      if (cmd[0] === 'MULTI') multiAt = i;
      if (cmd[0] === 'EXEC' && multiAt >= 0 && Array.isArray(reply)) {
        // EXEC's replies are those of the commands queued since MULTI.
        for (let j = 0; j < reply.length; j++) this.note(owner, batch.cmds[multiAt + 1 + j]!, reply[j]!);
        multiAt = -1;
      } else this.note(owner, cmd, reply);
      if (this.failure) return;
      if (batch.last[i]) this.finish(owner);
    }
  }

  private note(owner: KeyJob, cmd: RespArg[], reply: RespReply | undefined): void {
    if (reply instanceof RespError) {
      const kind = fatalKind(reply);
      if (kind) this.failure ??= new FatalReplyError('target', kind, reply.message);
      else owner.error ??= `${String(cmd[0])}: ${reply.message}`;
    } else if (cmd[0] === 'XCLAIM' && Array.isArray(reply) && reply.length === 0) {
      this.counters.pendingNotRestored++;
    }
  }

  private finish(job: KeyJob): void {
    const c = this.counters;
    const { entry } = job;
    if (job.error === null) {
      c.keysRestored++;
      c.bytesRestored += entry.payload.length;
      c.perDb.set(entry.db, (c.perDb.get(entry.db) ?? 0) + 1);
      return;
    }
    c.keysFailed++;
    if (c.errors.length < MAX_REPORTED_KEY_ERRORS) {
      c.errors.push({ db: entry.db, key: printableKey(entry.key), reason: `by type: ${job.error}` });
    } else c.errorsOmitted++;
  }
}

interface ValueState {
  /** Stream entries added so far (none: the stream is created empty). */
  streamEntries: number;
}

/** The rest of a generator that was partly consumed with next(). */
function* iterate<T>(gen: Generator<T>): Generator<T> {
  for (;;) {
    const r = gen.next();
    if (r.done) return;
    yield r.value;
  }
}
