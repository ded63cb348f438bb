// Writes RDB entries (src/engine/rdb) to a target with pipelined RESTORE: the payload as the
// reader made it (no re-encoding), the RDB's absolute expiry with ABSTTL (so the time an entry
// waits here does not stretch its TTL), SELECT whenever the database changes (in the pipeline, so
// order holds). Keys already expired are skipped and counted, as Redis's own load skips them.
//
// Back-pressure: add() returns a promise only when the batches in flight are at their limit (in
// count or bytes); the RDB reader awaits it, and so the producer (file, socket) slows to the
// target's pace. Memory: at most the in-flight window's bytes (in-flight-window.ts) of payloads,
// plus the batch being filled.
import { printableKey } from '../../probe/printable-key.js';
import { FatalReplyError, fatalKind, isPayloadRejection } from '../copy/errors.js';
import type { KeyError } from '../copy/types.js';
import type { RdbEntry } from '../rdb/reader.js';
import type { RespConnection } from '../resp/connection.js';
import { type CommandTemplate, commandTemplate } from '../resp/encoder.js';
import { RespError, type RespReply } from '../resp/reply.js';
import { leftOut } from './entry-writer.js';
import { InFlightWindow } from './in-flight-window.js';

const BATCH_KEYS = 1000;
const BATCH_BYTES = 4 * 1024 * 1024;
/** Errors kept in the counters; the rest are only counted. */
export const MAX_REPORTED_KEY_ERRORS = 100;

const RESTORE_ABSTTL = commandTemplate(['RESTORE'], 3, ['ABSTTL']);
const RESTORE_ABSTTL_REPLACE = commandTemplate(['RESTORE'], 3, ['ABSTTL', 'REPLACE']);

export interface RestoreWriterOptions {
  /** RESTORE ... REPLACE: overwrite keys the target has. Without it such a key is an error (BUSYKEY). */
  replace: boolean;
  /** Only these source databases are written (others are counted as skipped). */
  dbs?: 'all' | readonly number[];
  /** Restore LRU idle time / LFU counter from the RDB (IDLETIME / FREQ). Default true. */
  keepAccessInfo?: boolean;
  /** The clock expiry is judged by (tests). */
  now?: () => number;
}

export interface RestoreCounters {
  keysRestored: number;
  /** Payload bytes sent and acknowledged. */
  bytesRestored: number;
  /** Expired before they could be restored (skipped, as Redis's own RDB load skips them). */
  keysExpired: number;
  /** In databases not selected (--db). */
  keysSkipped: number;
  keysFailed: number;
  /** Restored keys per database. */
  perDb: Map<number, number>;
  /** The first MAX_REPORTED_KEY_ERRORS failures. */
  errors: KeyError[];
  errorsOmitted: number;
}

interface Batch {
  /** A database number is a SELECT; an entry is a RESTORE. */
  items: (RdbEntry | number)[];
  bytes: number;
}

export class RestoreWriter {
  readonly counters: RestoreCounters = {
    keysRestored: 0,
    bytesRestored: 0,
    keysExpired: 0,
    keysSkipped: 0,
    keysFailed: 0,
    perDb: new Map(),
    errors: [],
    errorsOmitted: 0,
  };
  private batch: Batch = { items: [], bytes: 0 };
  private readonly window = new InFlightWindow(() => {
    if (this.failure) throw this.failure;
  });
  /** The database the target connection will be in once everything queued has run. */
  private db: number;
  private failure: unknown;
  private readonly wanted: Set<number> | null;
  private readonly now: () => number;

  constructor(
    private readonly dst: RespConnection,
    private readonly options: RestoreWriterOptions,
  ) {
    this.db = dst.db;
    this.wanted = options.dbs && options.dbs !== 'all' ? new Set(options.dbs) : null;
    this.now = options.now ?? Date.now;
  }

  /** Queues one entry; a promise when the caller must wait before adding more. */
  add(entry: RdbEntry): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    if (leftOut(entry, this.wanted, this.now, this.counters)) return undefined;
    if (entry.db !== this.db) {
      this.batch.items.push(entry.db);
      this.db = entry.db;
      // The connection's own record, so its select() knows where the pipeline leaves it.
      this.dst.db = entry.db;
    }
    this.batch.items.push(entry);
    this.batch.bytes += entry.payload.length;
    if (this.batch.items.length >= BATCH_KEYS || this.batch.bytes >= BATCH_BYTES) return this.send();
    return undefined;
  }

  /** Sends what is queued and waits for every reply. Throws the first fatal error. */
  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.batch.items.length > 0) await this.send();
    await this.window.drain();
    if (this.failure) throw this.failure;
  }

  /** Waits for what is in flight without raising (after a failure elsewhere). */
  async settle(): Promise<void> {
    await this.window.settle();
  }

  private send(): Promise<void> | undefined {
    const batch = this.batch;
    this.batch = { items: [], bytes: 0 };
    const replace = this.options.replace;
    const keepAccess = this.options.keepAccessInfo !== false;
    const template: CommandTemplate = replace ? RESTORE_ABSTTL_REPLACE : RESTORE_ABSTTL;
    const pending = this.dst.execEncoded(batch.items.length, (enc) => {
      for (const item of batch.items) {
        if (typeof item === 'number') enc.push(['SELECT', item]);
        else if (keepAccess && (item.idleSeconds !== undefined || item.freq !== undefined)) {
          const args: (string | number | Buffer)[] = [
            'RESTORE',
            item.key,
            item.expireAtMs ?? 0,
            item.payload,
            'ABSTTL',
          ];
          if (replace) args.push('REPLACE');
          if (item.idleSeconds !== undefined) args.push('IDLETIME', item.idleSeconds);
          else if (item.freq !== undefined) args.push('FREQ', item.freq);
          enc.push(args);
        } else enc.pushTemplate(template, item.key, item.expireAtMs ?? 0, item.payload);
      }
    });
    const done = pending.then(
      (replies) => this.account(batch, replies),
      (err) => {
        this.failure ??= err;
      },
    );
    return this.window.push(done, batch.bytes);
  }

  private account(batch: Batch, replies: RespReply[]): void {
    const c = this.counters;
    for (let i = 0; i < batch.items.length; i++) {
      const item = batch.items[i]!;
      const reply = replies[i];
      if (typeof item === 'number') {
        if (reply instanceof RespError) {
          this.failure ??= new FatalReplyError(
            'target',
            'unavailable',
            `SELECT ${item} failed (${reply.message}): the target has fewer databases than the RDB uses ` +
              '(its databases setting), or this user may not SELECT',
          );
          return;
        }
        continue;
      }
      if (!(reply instanceof RespError)) {
        c.keysRestored++;
        c.bytesRestored += item.payload.length;
        c.perDb.set(item.db, (c.perDb.get(item.db) ?? 0) + 1);
        continue;
      }
      const kind = fatalKind(reply);
      if (kind) {
        this.failure ??= new FatalReplyError('target', kind, reply.message);
        return;
      }
      const hint = isPayloadRejection(reply)
        ? ' (the target cannot read this RDB version: import into a server of the same or a newer version)'
        : /BUSYKEY/.test(reply.message)
          ? ' (the key exists on the target: use --replace to overwrite)'
          : /bad data format/i.test(reply.message)
            ? ' (an encoding the target does not know, or a corrupt value)'
            : '';
      c.keysFailed++;
      if (c.errors.length < MAX_REPORTED_KEY_ERRORS) {
        c.errors.push({
          db: item.db,
          key: printableKey(item.key),
          reason: `RESTORE: ${reply.message}${hint}`,
        });
      } else c.errorsOmitted++;
    }
  }
}
