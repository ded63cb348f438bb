// The full sync's RDB onto the target: entries of the mapped databases (remapped) as pipelined
// RESTOREs, function libraries with FUNCTION LOAD, read from the link as it arrives or through a
// spool file; a key or library the target refuses fails the sync (the mirror would not be exact).
import { join } from 'node:path';
import { ExitCode, UserError } from '../../util/errors.js';
import type { NonEmptyTargetPolicy } from '../copy/types.js';
import type { DbMapping } from '../db-mapping.js';
import { RdbReader } from '../rdb/reader.js';
import type { RespConnection } from '../resp/connection.js';
import { FunctionLoader } from '../restore/function-loader.js';
import { RestoreWriter } from '../restore/restore-writer.js';
import type { LinkReader } from './link-reader.js';
import { receiveRdb } from './rdb-transfer.js';

const PROGRESS_MS = 250;

export interface RdbLoadOptions {
  mapping: DbMapping;
  /** The non-empty-target policy prepareTarget applied ('refuse': the target was empty). */
  policy: NonEmptyTargetPolicy;
  /** The target has FUNCTION (prepareTarget listed its libraries). */
  functionsSupported: boolean;
  spoolDir: string | null;
  maxValueBytes?: number;
  onProgress: (bytes: number, totalBytes: number | null, keys: number) => void;
}

export interface RdbLoaded {
  /** Bytes received after the RDB: the start of the replication stream. */
  rest: Buffer;
  keys: number;
  bytes: number;
  functions: number;
  expired: number;
  /** Keys of databases not mapped. */
  skipped: number;
  /** The stream's selected database after the RDB (aux repl-stream-db). */
  streamDb: number;
  ms: number;
}

export async function loadRdb(
  link: LinkReader,
  dst: RespConnection,
  options: RdbLoadOptions,
): Promise<RdbLoaded> {
  const { mapping, policy } = options;
  const started = Date.now();
  const writer = new RestoreWriter(dst, { replace: policy !== 'refuse' });
  const functions = new FunctionLoader(
    dst,
    policy === 'refuse' ? 'refuse' : 'replace',
    options.functionsSupported,
  );
  const wanted = mapping.dbs === 'all' ? null : new Set(mapping.dbs);
  const remap = mapping.remap;
  let streamDb = 0;
  let skipped = 0;
  const reader = new RdbReader(
    (event) => {
      switch (event.kind) {
        case 'entry': {
          const entry = event.entry;
          if (wanted && !wanted.has(entry.db)) {
            skipped++;
            return;
          }
          if (remap && entry.db === remap.from) entry.db = remap.to;
          return writer.add(entry);
        }
        case 'function':
          return functions.load(event.code);
        case 'aux':
          if (event.name === 'repl-stream-db') streamDb = Number(event.value.toString('latin1')) || 0;
          return;
        default:
          return;
      }
    },
    options.maxValueBytes !== undefined ? { maxValueBytes: options.maxValueBytes } : {},
  );
  if (options.spoolDir)
    await link.startSpool(join(options.spoolDir, `psync-${process.pid}-${Date.now()}.rdb`));
  let total: number | null = null;
  let lastProgress = 0;
  const progress = (force: boolean) => {
    const now = Date.now();
    if (!force && now - lastProgress < PROGRESS_MS) return;
    lastProgress = now;
    options.onProgress(reader.offset, total, writer.counters.keysRestored);
  };
  let rest: Buffer;
  try {
    const transfer = await receiveRdb(
      link,
      reader,
      (length) => {
        total = length;
      },
      () => progress(false),
    );
    rest = transfer.rest;
    link.unspool();
    await writer.flush();
  } catch (err) {
    await writer.settle();
    throw err;
  }
  const c = writer.counters;
  if (c.keysFailed > 0) {
    const first = c.errors[0];
    throw new UserError(
      `the target refused ${c.keysFailed} key(s) of the full sync` +
        (first ? `, first db ${first.db} key ${first.key}: ${first.reason}` : ''),
      ExitCode.problem,
    );
  }
  if (functions.result.errors.length > 0 || functions.result.notCopied) {
    throw new UserError(
      `function libraries were not copied: ${functions.result.errors[0] ?? functions.result.notCopied}`,
      ExitCode.problem,
    );
  }
  progress(true);
  return {
    rest,
    keys: c.keysRestored,
    bytes: reader.offset,
    functions: functions.result.loaded,
    expired: c.keysExpired,
    skipped,
    streamDb,
    ms: Date.now() - started,
  };
}
