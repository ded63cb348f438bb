// copyKeySet: makes exactly these keys of one database on the target equal to the source now
// (live sync and re-checks). Same read/write path as the bulk copy, always REPLACE, and a key the
// source no longer has is deleted on the target.
import type { Endpoint } from '../../redis/endpoint.js';
import { ExitCode, UserError } from '../../util/errors.js';
import { RespConnectionError } from '../resp/reply.js';
import { copyBatch } from './batch.js';
import { type BatchContext, type BatchResult, batchContext, MAX_BATCHES } from './context.js';
import { FatalReplyError } from './errors.js';
import { fieldTtlPolicy } from './field-ttls.js';
import { MAX_REPORTED_ERRORS } from './scan-walk.js';
import { CopySession } from './session.js';
import { addCounters, type CopyOptions, type KeySetCounters, zeroCounters } from './types.js';

const IN_FLIGHT_BYTES = 64 * 1024 * 1024;

export type KeySetOptions = Pick<
  CopyOptions,
  'mode' | 'bigKeyThresholdBytes' | 'logger' | 'remap' | 'dropFieldTtls'
>;

const KEYS_PER_BATCH = 1000;

/** Open connections for repeated key-set copies (cheaper than copyKeySet per call). */
export class KeySetCopier {
  private readonly ctx: BatchContext;

  private constructor(
    private readonly session: CopySession,
    options: KeySetOptions,
  ) {
    this.ctx = batchContext(session.facts, {
      mode: options.mode,
      bigKeyThresholdBytes: options.bigKeyThresholdBytes,
      inFlightBytes: IN_FLIGHT_BYTES,
      fieldTtls: fieldTtlPolicy(session, options.dropFieldTtls),
      // Live sync copies few keys at a time, often big ones being written to: always measure.
      sizeProbe: true,
      deleteMissing: true,
      logger: options.logger,
    });
  }

  static async open(source: Endpoint, target: Endpoint, options: KeySetOptions = {}): Promise<KeySetCopier> {
    return new KeySetCopier(await CopySession.open(source, target, 0, options.remap), options);
  }

  /** Copies the keys; a dropped connection is reconnected and the whole set copied again once. */
  async copy(db: number, keys: Buffer[]): Promise<KeySetCounters> {
    try {
      return await this.copyOnce(db, keys);
    } catch (err) {
      if (!(err instanceof RespConnectionError)) throw this.explain(err);
      this.ctx.logger?.warn({ err: err.message }, 'connection lost during a key-set copy; retrying once');
      await this.session.reconnect(db);
      try {
        return await this.copyOnce(db, keys);
      } catch (again) {
        throw this.explain(again);
      }
    }
  }

  private async copyOnce(db: number, keys: Buffer[]): Promise<KeySetCounters> {
    await this.session.select(db);
    this.ctx.db = db;
    const total: KeySetCounters = { ...zeroCounters(), keysDeleted: 0, errors: [] };
    // Up to MAX_BATCHES batches in flight, as in the bulk copy.
    const window: Promise<BatchResult>[] = [];
    const absorb = async () => {
      const r = await window.shift()!;
      addCounters(total, r);
      total.keysDeleted += r.keysDeleted;
      for (const e of r.errors) {
        if (total.errors.length < MAX_REPORTED_ERRORS) total.errors.push(e);
        this.ctx.logger?.warn({ db: e.db, key: e.key, reason: e.reason }, 'key not copied');
      }
    };
    try {
      for (let i = 0; i < keys.length; i += KEYS_PER_BATCH) {
        if (window.length >= MAX_BATCHES) await absorb();
        const p = copyBatch(this.session.src, this.session.dst, keys.slice(i, i + KEYS_PER_BATCH), this.ctx);
        p.catch(() => undefined); // awaited in order by absorb()
        window.push(p);
      }
      while (window.length > 0) await absorb();
    } catch (err) {
      await Promise.allSettled(window);
      throw err;
    }
    return total;
  }

  private explain(err: unknown): unknown {
    if (err instanceof FatalReplyError) {
      return new UserError(`key-set copy stopped: the ${err.side} answered ${err.reply}`, ExitCode.problem);
    }
    return err;
  }

  async close(): Promise<void> {
    await this.session.close().catch(() => this.session.destroy());
  }
}

export async function copyKeySet(
  source: Endpoint,
  target: Endpoint,
  db: number,
  keys: Buffer[],
  options: KeySetOptions = {},
): Promise<KeySetCounters> {
  const copier = await KeySetCopier.open(source, target, options);
  try {
    return await copier.copy(db, keys);
  } finally {
    await copier.close();
  }
}
