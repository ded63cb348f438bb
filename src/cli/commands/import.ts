import type { Command } from 'commander';
import {
  type ImportOptions,
  type ImportProgress,
  type ImportReport,
  ImportStoppedError,
  importRdbFile,
} from '../../engine/rdb-import/index.js';
import { describeEndpoint } from '../../redis/endpoint.js';
import { ExitCode, UserError } from '../../util/errors.js';
import { action, addGlobalOptions, type CliContext } from '../context.js';
import { addDropFieldTtlsOption } from '../options/field-ttl-option.js';
import { parseBytes, parseDbs } from '../options/values.js';
import { addProgressOption, fmtBytes, fmtInt, type ProgressMode, progressRendererFor } from '../progress.js';
import { askFlush } from './copy.js';

interface ImportCliOptions {
  db?: string;
  replace?: boolean;
  flushTarget?: boolean;
  yes?: boolean;
  maxValueSize?: string;
  progress?: ProgressMode;
  dropFieldTtls?: boolean;
}

export function registerImportCommand(program: Command): void {
  const cmd = program
    .command('import')
    .description(
      'Restore every key (TTLs, every database, stream groups) and the function libraries of an RDB file ' +
        '(RDB 1-12: Redis up to 8.4, Valkey up to 8.1) onto a target, streaming, with RESTORE',
    )
    .argument('<file.rdb>', 'the RDB file (a dump.rdb, or a provider backup)')
    .argument('<target>', 'endpoint name from the config, or a redis:// URL')
    .option('--db <list>', 'databases of the file to restore: all (the default) or e.g. 0,3')
    .option(
      '--replace',
      'import into a non-empty target, overwriting keys and function libraries of the same name',
    )
    .option('--flush-target', 'empty the selected target databases (and function libraries) first')
    .option('--yes', 'confirm --flush-target without asking (required when not on a terminal)')
    .option(
      '--max-value-size <bytes>',
      'stop at a key or value bigger than this (it is held whole in memory; default 64mb)',
    );
  addDropFieldTtlsOption(cmd);
  addProgressOption(cmd);
  addGlobalOptions(cmd);
  cmd.action(action(runImport));
}

async function runImport(
  ctx: CliContext,
  file: string,
  targetName: string,
  opts: ImportCliOptions,
): Promise<number> {
  if (opts.replace && opts.flushTarget) throw new UserError('choose one of --replace and --flush-target');
  if (opts.flushTarget && !opts.yes && !process.stdin.isTTY) {
    throw new UserError(
      '--flush-target deletes data on the target: add --yes to confirm (no terminal to ask on)',
    );
  }
  const target = ctx.endpoint(targetName, 'the target');
  if (target.urlDb !== undefined) {
    // As for copy, a target database needs a source database to map from; a file has several.
    throw new UserError(
      `the target URL names database ${target.urlDb}: the file's keys go into the databases the file ` +
        `holds them in. Drop /${target.urlDb} from the URL, and choose the file's databases with --db`,
    );
  }
  const options: ImportOptions = {
    onNonEmptyTarget: opts.replace ? 'replace' : opts.flushTarget ? 'flush' : 'refuse',
    dbs: opts.db === undefined ? 'all' : parseDbs(opts.db),
  };
  if (opts.dropFieldTtls) options.dropFieldTtls = true;
  if (opts.maxValueSize) options.maxValueBytes = parseBytes(opts.maxValueSize, '--max-value-size');
  if (opts.flushTarget && !opts.yes) {
    options.confirmFlush = (nonEmpty, libraries) => askFlush(describeEndpoint(target), nonEmpty, libraries);
  }
  const renderer = progressRendererFor(opts.progress, process.stderr, 'bytes');
  options.onProgress = (p) => renderer.update(progressState(p));

  const controller = new AbortController();
  options.signal = controller.signal;
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    ctx.note('\nstopping after the keys in flight (press Ctrl-C again to quit at once)...');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let report: ImportReport;
  try {
    report = await importRdbFile(file, target, options);
  } catch (err) {
    renderer.finish();
    if (!(err instanceof ImportStoppedError)) throw err;
    if (ctx.json)
      ctx.printJson({ event: 'report', ...err.report, stopped: err.message, exitCode: err.exitCode });
    else {
      ctx.print(summary(err.report, describeEndpoint(target)));
      ctx.note(`error: ${err.message}`);
    }
    return err.exitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  renderer.finish();
  if (ctx.json) ctx.printJson({ event: 'report', ...report });
  else ctx.print(summary(report, describeEndpoint(target)));
  if (!report.complete) {
    ctx.note('stopped before the end of the file: run it again with --replace to import it all');
    return ExitCode.problem;
  }
  if (report.functions.notCopied) {
    ctx.note(
      `the file's ${report.functions.libraries} function libraries were not all loaded (${report.functions.notCopied}): ` +
        'the import is incomplete. Give the target FUNCTION (Redis 7+, allowed for this user), then import again with --replace',
    );
    return ExitCode.problem;
  }
  return report.keysFailed > 0 ? ExitCode.problem : ExitCode.ok;
}

/** The bar counts bytes of the file (the one total known up front); keys go in the detail. */
function progressState(p: ImportProgress) {
  const seconds = p.elapsedMs / 1000;
  const rate = seconds > 0 ? p.bytesRead / seconds : 0;
  const left = p.fileBytes - p.bytesRead;
  return {
    phase: p.done ? 'done' : 'keys',
    done: p.bytesRead,
    total: p.fileBytes,
    rate,
    etaSeconds: rate > 0 ? left / rate : null,
    detail: `${fmtInt(p.keysRead)} keys, ${fmtInt(p.keysPerSecond)} keys/s${p.keysFailed ? `, ${fmtInt(p.keysFailed)} failed` : ''}`,
    data: {
      bytesRead: p.bytesRead,
      fileBytes: p.fileBytes,
      keysRead: p.keysRead,
      keysRestored: p.keysRestored,
      keysFailed: p.keysFailed,
      keysPerSecond: p.keysPerSecond,
      elapsedMs: p.elapsedMs,
    },
  };
}

export function summary(r: ImportReport, target: string): string {
  const seconds = r.durationMs / 1000;
  const lines = [
    `${r.complete ? 'imported' : 'partly imported'} ${fmtInt(r.keysRestored)} keys (${fmtBytes(r.bytesRestored)} of values) ` +
      `from ${r.file} (RDB ${r.rdbVersion}${r.writtenBy ? `, ${r.writtenBy}` : ''}, ${fmtBytes(r.fileBytes)}) to ${target} ` +
      `in ${seconds.toFixed(1)} s (${fmtInt(r.keysPerSecond)} keys/s)`,
    `  read ${fmtInt(r.bytesRead)} of ${fmtInt(r.fileBytes)} bytes; checksum: ${r.checksum === 'ok' ? 'ok' : r.checksum === 'disabled' ? 'none (written with rdbchecksum no)' : 'not reached'}`,
    r.writeMethod === 'by-type'
      ? `  written by type (HSET, RPUSH, SADD, ZADD, XADD ...), not RESTORE: ${r.writeMethodReason}` +
        (r.fieldTtlsDropped
          ? `; field TTLs dropped (--drop-field-ttls): ${fmtInt(r.fieldTtlsDropped)}`
          : '') +
        (r.pendingNotRestored
          ? `; stream pending entries of deleted messages not recreated (XCLAIM cannot): ${fmtInt(r.pendingNotRestored)}`
          : '')
      : '  written with RESTORE (the payloads as they are in the file)',
    `  databases: ${r.dbs.length ? r.dbs.map((d) => `db${d.db} ${fmtInt(d.keys)}`).join(', ') : '(no keys)'}`,
    `  expired before they could be restored (skipped): ${fmtInt(r.keysExpired)}; failed: ${fmtInt(r.keysFailed)}` +
      (r.keysSkipped ? `; in databases not selected: ${fmtInt(r.keysSkipped)}` : '') +
      (r.emptyKeysSkipped ? `; empty (skipped, as Redis's load does): ${fmtInt(r.emptyKeysSkipped)}` : ''),
    `  functions: ${r.functions.libraries} libraries, ${r.functions.loaded} loaded`,
  ];
  for (const f of r.flushed) lines.push(`  flushed first: db${f.db} (${fmtInt(f.keys)} keys)`);
  for (const e of r.functions.errors) lines.push(`  function ${e}`);
  if (r.errors.length > 0) {
    lines.push('  errors:');
    for (const e of r.errors) lines.push(`    db${e.db} ${e.key}: ${e.reason}`);
    if (r.errorsOmitted) lines.push(`    ... and ${fmtInt(r.errorsOmitted)} more`);
  }
  return lines.join('\n');
}
