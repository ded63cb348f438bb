// The replication stream applied to the target, in order, on one pipelined connection: each
// command's own bytes are passed on (no re-encoding); SELECT goes through the DbMapping, commands
// of databases not copied are skipped, MULTI/EXEC stay a transaction on the target, PING and
// REPLCONF are not applied (GETACK is answered). The applied offset advances only when the target
// has answered every command up to it, and only to a point outside a transaction, so a resume
// from it never starts in the middle of one. A target error stops it, naming the command and key.
import { printableKey } from '../../probe/printable-key.js';
import { type DbMapping, targetDbOf } from '../db-mapping.js';
import type { RespConnection } from '../resp/connection.js';
import { CommandEncoder } from '../resp/encoder.js';
import { RespError, type RespReply } from '../resp/reply.js';
import type { StreamCommand } from './command-stream.js';

const MAX_IN_FLIGHT_BATCHES = 64;
const MAX_IN_FLIGHT_BYTES = 32 * 1024 * 1024;
/** A batch is sent once it holds this many bytes even in the middle of a chunk. */
const BATCH_BYTES = 1024 * 1024;

/** The target refused a command of the stream (or cannot mirror it): the mirror stops. */
export class StreamApplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StreamApplyError';
  }
}

interface Item {
  name: string;
  key: Buffer | null;
  db: number;
  end: number;
  /** For EXEC: the commands it runs, in order. */
  tx?: Item[];
}

interface Batch {
  items: Item[];
  chunks: Buffer[];
  bytes: number;
  safeOffset: number;
  safeDb: number;
}

export interface AppliedPoint {
  offset: number;
  /** The source database selected at that offset. */
  db: number;
}

export class StreamApplier {
  private batch: Batch;
  private readonly window: { done: Promise<void>; bytes: number }[] = [];
  private inFlightBytes = 0;
  private failure: Error | null = null;
  /** The source db the stream has selected (at the last parsed command). */
  private db: number;
  private tx: Item[] | null = null;
  /** The last point outside a transaction that was parsed. */
  private safe: AppliedPoint;
  private appliedPoint: AppliedPoint;
  private readonly wanted: Set<number> | null;
  private readonly restricted: boolean;
  private readonly enc = new CommandEncoder();

  constructor(
    private readonly dst: RespConnection,
    private readonly mapping: DbMapping,
    start: AppliedPoint,
    private readonly onAck: (offset: number) => void,
    private readonly onApplied: (point: AppliedPoint) => void,
    /** The first target error, as soon as its reply arrives (the stream may be idle then). */
    private readonly onFailed: (err: Error) => void = () => undefined,
  ) {
    this.db = start.db;
    this.safe = { ...start };
    this.appliedPoint = { ...start };
    this.wanted = mapping.dbs === 'all' ? null : new Set(mapping.dbs);
    this.restricted = this.wanted !== null || mapping.remap !== undefined;
    this.batch = this.newBatch();
  }

  get applied(): AppliedPoint {
    return this.appliedPoint;
  }

  /** A MULTI was sent whose EXEC was not. */
  get inTransaction(): boolean {
    return this.tx !== null;
  }

  /** Selects the target database for the stream's current one (a continued stream has no SELECT). */
  begin(): void {
    if (this.isWanted(this.db))
      this.push(this.selectItem(this.db), this.encoded(['SELECT', targetDbOf(this.mapping, this.db)]));
  }

  /** Applies the commands of one chunk; resolves when the caller may feed more. */
  async apply(commands: StreamCommand[]): Promise<void> {
    if (this.failure) throw this.failure;
    for (const cmd of commands) {
      const wait = this.one(cmd);
      if (wait) await wait;
      if (this.failure) throw this.failure;
    }
    if (this.batch.items.length > 0) {
      const wait = this.send();
      if (wait) await wait;
    } else if (this.window.length === 0) this.advance(this.safe);
    if (this.failure) throw this.failure;
  }

  /** Waits for every command in flight; throws the first target error. */
  async flush(): Promise<void> {
    if (this.batch.items.length > 0) await this.send();
    while (this.window.length > 0 && !this.failure) await this.settleOldest();
    if (this.failure) throw this.failure;
  }

  /**
   * The link is gone: waits for what is in flight (so the applied offset is final) and ends an
   * open transaction on the target, which the resumed stream will send again from its MULTI.
   */
  async abandon(): Promise<void> {
    this.batch = this.newBatch();
    await Promise.allSettled(this.window.map((w) => w.done));
    if (this.tx !== null && !this.failure && !this.dst.broken) {
      await this.dst.exec([['DISCARD']]).catch(() => undefined);
    }
    this.tx = null;
  }

  get error(): Error | null {
    return this.failure;
  }

  private one(cmd: StreamCommand): Promise<void> | undefined {
    const argv = cmd.argv;
    if (argv.length === 0) return this.skip(cmd);
    const name = argv[0]!.toString('latin1').toUpperCase();
    switch (name) {
      case 'PING':
        return this.skip(cmd);
      case 'REPLCONF':
        if (argv[1] && argv[1].toString('latin1').toUpperCase() === 'GETACK')
          this.onAck(this.appliedPoint.offset);
        return this.skip(cmd);
      case 'SELECT': {
        const db = Number(argv[1]?.toString('latin1'));
        if (!Number.isInteger(db) || db < 0)
          return this.fail(`SELECT with a bad database at offset ${cmd.end}`);
        this.db = db;
        if (!this.isWanted(db)) return this.skip(cmd);
        if (!this.restricted) return this.forward(this.selectItem(db, cmd.end), cmd);
        return this.push(
          { ...this.selectItem(db, cmd.end) },
          this.encoded(['SELECT', targetDbOf(this.mapping, db)]),
        );
      }
      case 'MULTI': {
        const wait = this.forward({ name, key: null, db: this.db, end: cmd.end }, cmd);
        this.tx = [];
        return wait;
      }
      case 'EXEC': {
        const tx = this.tx ?? [];
        this.tx = null;
        return this.forward({ name, key: null, db: this.db, end: cmd.end, tx }, cmd);
      }
      case 'FLUSHALL':
        if (!this.restricted) return this.forward({ name, key: null, db: this.db, end: cmd.end }, cmd);
        return this.flushMapped(cmd);
      case 'SWAPDB':
      case 'MOVE':
        if (this.restricted)
          return this.fail(
            `${name} at offset ${cmd.end} crosses databases, which a copy of some databases cannot mirror`,
          );
        break;
      case 'COPY':
        if (this.restricted && argv.some((a) => a.toString('latin1').toUpperCase() === 'DB')) {
          return this.fail(
            `COPY ... DB at offset ${cmd.end} crosses databases, which a copy of some databases cannot mirror`,
          );
        }
        break;
      default:
        break;
    }
    if (!this.isWanted(this.db)) return this.skip(cmd);
    return this.forward({ name, key: argv[1] ?? null, db: this.db, end: cmd.end }, cmd);
  }

  /** FLUSHALL under a mapping of some databases: FLUSHDB in each mapped target database. */
  private flushMapped(cmd: StreamCommand): Promise<void> | undefined {
    const dbs = this.mapping.dbs === 'all' ? [] : this.mapping.dbs;
    const mode = cmd.argv[1] ? [cmd.argv[1]] : [];
    let wait: Promise<void> | undefined;
    for (const db of dbs) {
      const target = targetDbOf(this.mapping, db);
      this.push(this.selectItem(db, cmd.end), this.encoded(['SELECT', target]));
      wait = this.push({ name: 'FLUSHDB', key: null, db, end: cmd.end }, this.encoded(['FLUSHDB', ...mode]));
    }
    if (this.isWanted(this.db)) {
      wait = this.push(
        this.selectItem(this.db, cmd.end),
        this.encoded(['SELECT', targetDbOf(this.mapping, this.db)]),
      );
    }
    this.point(cmd.end);
    return wait;
  }

  private selectItem(db: number, end = this.safe.offset): Item {
    return { name: 'SELECT', key: null, db, end };
  }

  private encoded(args: (string | number | Buffer)[]): Buffer {
    this.enc.push(args);
    const chunks = this.enc.take();
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }

  private skip(cmd: StreamCommand): undefined {
    this.point(cmd.end);
    return undefined;
  }

  private fail(message: string): undefined {
    this.failure ??= new StreamApplyError(message);
    return undefined;
  }

  private forward(item: Item, cmd: StreamCommand): Promise<void> | undefined {
    const wait = this.push(item, cmd.raw);
    this.point(cmd.end);
    return wait;
  }

  /** Records that the stream was consumed up to `end` (a safe point when outside a transaction). */
  private point(end: number): void {
    if (this.tx === null) this.safe = { offset: end, db: this.db };
  }

  private push(item: Item, bytes: Buffer): Promise<void> | undefined {
    const b = this.batch;
    b.items.push(item);
    b.chunks.push(bytes);
    b.bytes += bytes.length;
    if (this.tx !== null && item.name !== 'MULTI') this.tx.push(item);
    if (b.bytes >= BATCH_BYTES) return this.send();
    return undefined;
  }

  private newBatch(): Batch {
    return { items: [], chunks: [], bytes: 0, safeOffset: 0, safeDb: 0 };
  }

  private send(): Promise<void> | undefined {
    const batch = this.batch;
    this.batch = this.newBatch();
    batch.safeOffset = this.safe.offset;
    batch.safeDb = this.safe.db;
    // Replies come in order, so batches finish in the order of the window.
    const finished = () => {
      this.window.shift();
      this.inFlightBytes -= batch.bytes;
    };
    const done = this.dst.execChunks(batch.items.length, batch.chunks).then(
      (replies) => {
        finished();
        this.account(batch, replies);
      },
      (err: Error) => {
        finished();
        this.failed(new StreamApplyError(`the target connection failed: ${err.message}`));
      },
    );
    this.window.push({ done, bytes: batch.bytes });
    this.inFlightBytes += batch.bytes;
    if (this.window.length >= MAX_IN_FLIGHT_BATCHES || this.inFlightBytes >= MAX_IN_FLIGHT_BYTES) {
      return this.settleOldest();
    }
    return undefined;
  }

  private async settleOldest(): Promise<void> {
    const oldest = this.window[0];
    if (oldest) await oldest.done;
    if (this.failure) throw this.failure;
  }

  private account(batch: Batch, replies: RespReply[]): void {
    if (this.failure) return;
    for (let i = 0; i < batch.items.length; i++) {
      const item = batch.items[i]!;
      const reply = replies[i];
      if (reply instanceof RespError) {
        this.refused(item, reply);
        return;
      }
      if (item.tx && Array.isArray(reply)) {
        for (let j = 0; j < reply.length; j++) {
          const inner = reply[j];
          if (inner instanceof RespError) {
            this.refused(item.tx[j] ?? item, inner);
            return;
          }
        }
      }
    }
    this.advance({ offset: batch.safeOffset, db: batch.safeDb });
    // The last in flight and nothing waiting: everything parsed is on the target.
    if (this.window.length === 0 && this.batch.items.length === 0) this.advance(this.safe);
  }

  private refused(item: Item, reply: RespError): void {
    const key = item.key ? ` on key ${printableKey(item.key)}` : '';
    this.failed(
      new StreamApplyError(
        `the target refused ${item.name}${key} (source db ${item.db}, replication offset ${item.end}): ${reply.message}`,
      ),
    );
  }

  private failed(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.onFailed(err);
  }

  private advance(point: AppliedPoint): void {
    if (point.offset <= this.appliedPoint.offset) return;
    this.appliedPoint = point;
    this.onApplied(point);
  }

  private isWanted(db: number): boolean {
    return this.wanted === null || this.wanted.has(db);
  }
}
