// An RDB file onto a target: streamed through the RDB reader (src/engine/rdb) into pipelined
// RESTOREs (src/engine/restore), so memory stays bounded whatever the file's size. The header is
// checked before the target is touched (a file that is not an RDB, or one a target older than
// Redis 6.2 can neither RESTORE nor take by type, changes nothing); the file's checksum is checked at its end, after the keys were
// written, so a corrupt file leaves what was restored up to there and says so.
// A target whose RDB version is older than the file's gets the values by type instead (native
// commands from the decoded values, src/engine/rdb/decode), and the report says so and why.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { ExitCode, errorMessage, UserError } from '../../util/errors.js';
import { FatalReplyError } from '../copy/errors.js';
import type { KeyError, NonEmptyTargetPolicy } from '../copy/types.js';
import { RdbError } from '../rdb/errors.js';
import { type RdbEvent, RdbReader } from '../rdb/reader.js';
import { RespConnection } from '../resp/connection.js';
import { RespConnectionError } from '../resp/reply.js';
import type { EntryWriter } from '../restore/entry-writer.js';
import { FunctionLoader, type FunctionsResult } from '../restore/function-loader.js';
import { prepareTarget } from '../restore/prepare-target.js';
import { chooseWriteMethod, createEntryWriter, type WriteMethod } from '../restore/write-method.js';

const READ_CHUNK = 1024 * 1024;
const PROGRESS_MS = 250;

export interface ImportOptions {
  onNonEmptyTarget: NonEmptyTargetPolicy;
  /** Databases of the file to restore ('all' by default). */
  dbs: 'all' | number[];
  /** Biggest key or value accepted (rdb/reader.ts DEFAULT_MAX_VALUE_BYTES). */
  maxValueBytes?: number;
  confirmFlush?: (nonEmpty: { db: number; keys: number }[], libraries: string[]) => Promise<boolean>;
  onProgress?: (p: ImportProgress) => void;
  /** Stops reading; what was read is written, and the report says complete: false. */
  signal?: AbortSignal;
  /**
   * When writing by type onto a target without field TTLs: hashes with field TTLs get persistent
   * fields (without it such a key fails, named in the errors).
   */
  dropFieldTtls?: boolean;
}

export interface ImportProgress {
  bytesRead: number;
  fileBytes: number;
  /** Keys in the file (its RESIZEDB hints), 0 when it has none. */
  keysExpected: number;
  keysRead: number;
  keysRestored: number;
  keysFailed: number;
  keysPerSecond: number;
  elapsedMs: number;
  done: boolean;
}

export interface ImportReport {
  file: string;
  fileBytes: number;
  bytesRead: number;
  rdbVersion: number;
  /** `redis-ver` (or `valkey-ver`) aux field of the file. */
  writtenBy: string | null;
  /** 'ok' or 'disabled' (written with rdbchecksum no); null when the end was not reached. */
  checksum: 'ok' | 'disabled' | null;
  complete: boolean;
  keysRead: number;
  keysRestored: number;
  bytesRestored: number;
  keysExpired: number;
  /** In databases not selected with --db. */
  keysSkipped: number;
  /** Empty collections in the file (an old Redis bug), skipped as Redis's own load skips them. */
  emptyKeysSkipped: number;
  keysFailed: number;
  /** 'restore' (RESTORE of the payloads) or 'by-type' (native commands), and why by type. */
  writeMethod: 'restore' | 'by-type';
  writeMethodReason: string | null;
  /** Field TTLs not carried over (--drop-field-ttls onto a target without them). */
  fieldTtlsDropped: number;
  /** By type: stream pending entries whose message is gone from the stream, not recreated. */
  pendingNotRestored: number;
  /** Keys restored per database. */
  dbs: { db: number; keys: number }[];
  functions: FunctionsResult;
  flushed: { db: number; keys: number }[];
  errors: KeyError[];
  errorsOmitted: number;
  durationMs: number;
  keysPerSecond: number;
}

/** The import stopped: `report` says how far it got; the message, why and what to do. */
export class ImportStoppedError extends UserError {
  constructor(
    message: string,
    exitCode: number,
    readonly report: ImportReport,
  ) {
    super(message, exitCode);
    this.name = 'ImportStoppedError';
  }
}

export async function importRdbFile(
  file: string,
  target: Endpoint,
  options: ImportOptions,
): Promise<ImportReport> {
  const fileBytes = await fileSize(file);
  const version = await checkHeader(file);
  const dst = await RespConnection.open(target, { db: 0, role: 'import-target' });
  try {
    const method = await chooseWriteMethod(dst, version);
    const prepared = await prepareTarget(dst, options.onNonEmptyTarget, options.dbs, options.confirmFlush);
    // Rates count from here: a person answering the flush prompt is not import time.
    return await new ImportRun(file, fileBytes, dst, options, prepared, method, Date.now()).run();
  } finally {
    await dst.close().catch(() => dst.destroy());
  }
}

class ImportRun {
  private readonly writer: EntryWriter;
  private readonly functions: FunctionLoader;
  private readonly reader: RdbReader;
  private writtenBy: string | null = null;
  private checksum: 'ok' | 'disabled' | null = null;
  private keysExpected = 0;
  private lastProgress = 0;

  constructor(
    private readonly file: string,
    private readonly fileBytes: number,
    private readonly dst: RespConnection,
    private readonly options: ImportOptions,
    private readonly prepared: { libraries: string[] | null; flushed: { db: number; keys: number }[] },
    private readonly method: WriteMethod,
    private readonly started: number,
  ) {
    const policy = options.onNonEmptyTarget;
    this.writer = createEntryWriter(dst, method, {
      replace: policy !== 'refuse',
      dbs: options.dbs,
      dropFieldTtls: options.dropFieldTtls === true,
    });
    this.functions = new FunctionLoader(dst, policy, prepared.libraries !== null);
    this.reader = new RdbReader((event) => this.onEvent(event), {
      ...(options.maxValueBytes !== undefined ? { maxValueBytes: options.maxValueBytes } : {}),
    });
  }

  async run(): Promise<ImportReport> {
    const { reader, writer, options } = this;
    try {
      const stream = createReadStream(this.file, { highWaterMark: READ_CHUNK });
      try {
        for await (const chunk of stream) {
          await reader.write(chunk as Buffer);
          this.progress(false);
          if (options.signal?.aborted) break;
        }
      } finally {
        stream.destroy();
      }
      if (!options.signal?.aborted) reader.end();
      await writer.flush();
    } catch (err) {
      // Entries read whole before a bad byte are good: they are written, so the report's count is
      // what the target holds. After a target failure, only what is in flight is waited for.
      if (err instanceof RdbError) await writer.flush().catch(() => writer.settle());
      else await writer.settle();
      throw this.stopped(err);
    }
    this.progress(true);
    return this.report();
  }

  private onEvent(event: RdbEvent): void | Promise<void> {
    switch (event.kind) {
      case 'entry':
        return this.writer.add(event.entry);
      case 'function':
        return this.functions.load(event.code);
      case 'resize':
        this.keysExpected += event.keys;
        return;
      case 'aux':
        if (event.name === 'redis-ver' || event.name === 'valkey-ver') {
          this.writtenBy = `${event.name === 'valkey-ver' ? 'Valkey' : 'Redis'} ${event.value.toString('latin1')}`;
        }
        return;
      case 'end':
        this.checksum = event.checksum;
        return;
      default:
        return;
    }
  }

  private progress(done: boolean): void {
    const now = Date.now();
    if (!this.options.onProgress || (!done && now - this.lastProgress < PROGRESS_MS)) return;
    this.lastProgress = now;
    const c = this.writer.counters;
    const elapsedMs = now - this.started;
    this.options.onProgress({
      bytesRead: this.reader.offset,
      fileBytes: this.fileBytes,
      keysExpected: this.keysExpected,
      keysRead: this.reader.keysRead,
      keysRestored: c.keysRestored,
      keysFailed: c.keysFailed,
      keysPerSecond: elapsedMs > 0 ? Math.round((this.reader.keysRead * 1000) / elapsedMs) : 0,
      elapsedMs,
      done,
    });
  }

  private report(): ImportReport {
    const c = this.writer.counters;
    const durationMs = Date.now() - this.started;
    return {
      file: this.file,
      fileBytes: this.fileBytes,
      bytesRead: this.reader.offset,
      rdbVersion: this.reader.rdbVersion,
      writtenBy: this.writtenBy,
      checksum: this.checksum,
      complete: this.reader.done && this.checksum !== null,
      keysRead: this.reader.keysRead,
      keysRestored: c.keysRestored,
      bytesRestored: c.bytesRestored,
      keysExpired: c.keysExpired,
      keysSkipped: c.keysSkipped,
      emptyKeysSkipped: this.reader.emptyKeysSkipped,
      keysFailed: c.keysFailed,
      writeMethod: this.method.method,
      writeMethodReason: this.method.reason,
      fieldTtlsDropped: c.fieldTtlsDropped ?? 0,
      pendingNotRestored: c.pendingNotRestored ?? 0,
      dbs: [...c.perDb].sort((a, b) => a[0] - b[0]).map(([db, keys]) => ({ db, keys })),
      functions: this.functions.result,
      flushed: this.prepared.flushed,
      errors: c.errors,
      errorsOmitted: c.errorsOmitted,
      durationMs,
      keysPerSecond: durationMs > 0 ? Math.round((this.reader.keysRead * 1000) / durationMs) : 0,
    };
  }

  private stopped(err: unknown): unknown {
    const report = this.report();
    const restored = `${report.keysRestored} keys were restored before it stopped and stay on the target`;
    if (err instanceof RdbError) {
      const at = `stopped at byte ${err.offset} of ${this.fileBytes}`;
      const next =
        err.kind === 'checksum'
          ? ': their values may be corrupt. Empty the target (--flush-target) and import a good copy of the file'
          : err.kind === 'truncated' || err.kind === 'corrupt'
            ? '. Get a complete copy of the file and import it again with --replace or --flush-target'
            : '';
      const exit = err.kind === 'not-rdb' || err.kind === 'unsupported' ? ExitCode.usage : ExitCode.problem;
      return new ImportStoppedError(`import ${at}: ${err.message}; ${restored}${next}`, exit, report);
    }
    if (err instanceof FatalReplyError) {
      const where = describeEndpoint(this.dst.endpoint);
      const what =
        err.kind === 'oom'
          ? `the target ${where} is out of memory (${err.reply}); free memory or raise maxmemory`
          : `the target ${where} cannot take the import (${err.reply})`;
      return new ImportStoppedError(
        `import stopped at byte ${this.reader.offset} of ${this.fileBytes}: ${what}; ${restored}. ` +
          'Fix that, then import again with --replace',
        ExitCode.problem,
        report,
      );
    }
    if (err instanceof RespConnectionError) {
      return new ImportStoppedError(
        `import stopped at byte ${this.reader.offset} of ${this.fileBytes}: ${err.message}; ${restored}. ` +
          'Import again with --replace once the target is reachable',
        ExitCode.usage,
        report,
      );
    }
    return err;
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new UserError(`${file} is not a file`);
    return s.size;
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot read ${file}: ${errorMessage(err)}`);
  }
}

/** The file's RDB version, from its header; RdbError-based UserError (exit 2) when it is not one. */
async function checkHeader(file: string): Promise<number> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(9);
    const { bytesRead } = await handle.read(head, 0, 9, 0);
    const reader = new RdbReader(() => undefined);
    try {
      await reader.write(head.subarray(0, bytesRead));
      if (reader.rdbVersion === 0) reader.end();
    } catch (err) {
      if (err instanceof RdbError) throw new UserError(`${file}: ${err.message}`, ExitCode.usage);
      throw err;
    }
    return reader.rdbVersion;
  } finally {
    await handle.close();
  }
}
